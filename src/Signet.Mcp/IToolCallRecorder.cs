using System.Text.Json.Nodes;
using Signet.Mcp.Recording;

namespace Signet.Mcp;

/// <summary>
/// Signs and durably records <c>tools/call</c> traffic: the engine under every mode. It decides nothing about the call:
/// it records, or throws <see cref="ToolCallRecordingException"/>; the connection's <see cref="ToolCallSession"/> owns
/// the call's life (pending, cancelled, refused or let through, answered when the connection ends).
/// </summary>
/// <remarks>Implementations are thread-safe and keep no per-call state: calls arrive concurrently.</remarks>
public interface IToolCallRecorder
{
    /// <summary>The settings it records with; a session reads its policies (failure mode, limits, callbacks) here.</summary>
    SignetOptions Options { get; }

    /// <summary>
    /// Signs the call, makes its receipt durable, then merges the receipt into <c>params._meta</c> (other keys kept), and
    /// returns the token its response is recorded against.
    /// </summary>
    /// <param name="callParams">The call's params object; its <c>_meta</c> gains the receipt.</param>
    /// <param name="callId">The call id (<see cref="CallId"/>).</param>
    /// <param name="sessionId">The MCP session, when there is one.</param>
    /// <param name="parentReceiptId">The receipt of an earlier attempt still awaiting its response under the same id, if any.</param>
    /// <param name="cancellationToken">Stops waiting for the append.</param>
    /// <exception cref="ToolCallRecordingException">The receipt could not be signed or stored.</exception>
    ValueTask<RecordedCall> RecordRequestAsync(JsonObject callParams, string callId, string? sessionId, string? parentReceiptId,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Records the response to a recorded call: exactly one of <paramref name="result"/> (the JSON-RPC result) or
    /// <paramref name="error"/> (the JSON-RPC error object) is non-null. Neither is modified.
    /// </summary>
    /// <exception cref="ToolCallRecordingException">A receipt could not be signed or stored, or a required co-signature failed.</exception>
    ValueTask RecordResponseAsync(RecordedCall call, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a <c>tools/call</c> that was refused and not forwarded. The default records nothing. Never throws for a
    /// record that cannot be made.
    /// </summary>
    /// <param name="callParams">The call's params object (not modified).</param>
    /// <param name="callId">The call id, or null when the call had no id.</param>
    /// <param name="sessionId">The MCP session, when there is one.</param>
    /// <param name="reason">Why the call was refused.</param>
    /// <param name="cancellationToken">Stops waiting for the record.</param>
    ValueTask RecordRefusalAsync(JsonObject callParams, string? callId, string? sessionId, string reason, CancellationToken cancellationToken = default) =>
        ValueTask.CompletedTask;
}
