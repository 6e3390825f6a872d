using System.Globalization;
using System.Text.Json.Nodes;

namespace Signet.Mcp;

/// <summary>
/// What every mode (the client transport, the stdio proxy, the HTTP bridge) does with <c>tools/call</c> traffic:
/// sign and durably record the request before it is forwarded, then record the response.
/// </summary>
/// <remarks>Implementations are thread-safe: calls arrive concurrently.</remarks>
public interface IToolCallRecorder
{
    /// <summary>
    /// Signs the call, makes its receipt durable, then merges the receipt into <c>params._meta</c> (other keys kept).
    /// Throws <see cref="ToolCallRefusedException"/> when the call must not be forwarded (fail-closed).
    /// </summary>
    ValueTask OnRequestAsync(JsonObject callParams, string callId, string? sessionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records the response to a call seen by <see cref="OnRequestAsync"/>: exactly one of <paramref name="result"/>
    /// (the JSON-RPC result) or <paramref name="error"/> (the JSON-RPC error object) is non-null. Neither is modified.
    /// Throws <see cref="ToolCallRefusedException"/> when the response must not be delivered (a required co-signature failed).
    /// </summary>
    ValueTask OnResponseAsync(string callId, string? sessionId, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default);

    /// <summary>Forgets a call that will get no response (cancelled, or its transport closed).</summary>
    void Forget(string callId, string? sessionId);
}

/// <summary>A call (or response) that Signet refused to pass on; the message says why and is shown to the client.</summary>
public sealed class ToolCallRefusedException : SignetException
{
    /// <summary>The JSON-RPC error code used for refused calls: in the implementation-defined server-error range.</summary>
    public const int JsonRpcErrorCode = -32099;

    /// <summary>Creates the exception.</summary>
    public ToolCallRefusedException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public ToolCallRefusedException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>Signet's <c>call_id</c> form of a JSON-RPC id: <c>n:&lt;number&gt;</c> or <c>s:&lt;string&gt;</c>, as the reference proxy writes it.</summary>
public static class CallId
{
    /// <summary>The call id of a JSON-RPC id node, or null when the id is missing or not a string or number.</summary>
    public static string? From(JsonNode? id)
    {
        if (id is not JsonValue value)
        {
            return null;
        }
        if (value.TryGetValue<string>(out var s))
        {
            return "s:" + s;
        }
        return value.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? "n:" + value.ToJsonString()
            : null;
    }

    /// <summary>The call id of an integer id.</summary>
    public static string From(long id) => "n:" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The call id of a string id.</summary>
    public static string From(string id) => "s:" + id;
}
