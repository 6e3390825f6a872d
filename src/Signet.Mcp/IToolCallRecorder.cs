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

    /// <summary>
    /// Records a <c>tools/call</c> that was refused and not forwarded, when no JSON-RPC error can tell the client (a
    /// call sent as a notification). The default records nothing. Never throws for a record that cannot be made.
    /// </summary>
    /// <param name="callParams">The call's params object (not modified).</param>
    /// <param name="callId">The call id, or null when the call had no id.</param>
    /// <param name="sessionId">The MCP session, when there is one.</param>
    /// <param name="reason">Why the call was refused.</param>
    /// <param name="cancellationToken">Stops waiting for the record.</param>
    ValueTask OnRefusedAsync(JsonObject callParams, string? callId, string? sessionId, string reason, CancellationToken cancellationToken = default) =>
        ValueTask.CompletedTask;
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
/// <remarks>
/// A number keeps the lexeme the client sent (<c>n:1.0</c>, <c>n:-0</c>): that is what is signed. A server may echo
/// it in another form (a JavaScript server answers <c>1.0</c> as <c>1</c> and 2^53+1 as 2^53), so responses are matched
/// by <see cref="PendingCalls{T}"/>: by the exact call id first, then by <see cref="NumericKey"/>.
/// </remarks>
public static class CallId
{
    /// <summary>The call id of a JSON-RPC id node, or null when the id is missing or not a string or number.</summary>
    public static string? From(JsonNode? id)
    {
        if (id is not JsonValue value)
        {
            return null;
        }
        try
        {
            return value.GetValueKind() switch
            {
                System.Text.Json.JsonValueKind.String => "s:" + value.GetValue<string>(),
                System.Text.Json.JsonValueKind.Number => "n:" + value.ToJsonString(),
                _ => null,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            // A value that cannot be read as text (e.g. bytes that are not UTF-8) names no call.
            return null;
        }
    }

    /// <summary>The call id of an integer id.</summary>
    public static string From(long id) => "n:" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The call id of a string id.</summary>
    public static string From(string id) => "s:" + id;

    /// <summary>
    /// The numeric value of a number call id as a key (the shortest round-trip form of the nearest double, <c>-0</c>
    /// as <c>0</c>), so that <c>n:1.0</c>, <c>n:1</c> and <c>n:1E0</c> share one key; null for a string call id or a
    /// lexeme that is not a finite number.
    /// </summary>
    public static string? NumericKey(string callId)
    {
        ArgumentNullException.ThrowIfNull(callId);
        if (!callId.StartsWith("n:", StringComparison.Ordinal)
            || !double.TryParse(callId.AsSpan(2), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value))
        {
            return null;
        }
        return value == 0 ? "0" : value.ToString("R", CultureInfo.InvariantCulture);
    }
}
