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

