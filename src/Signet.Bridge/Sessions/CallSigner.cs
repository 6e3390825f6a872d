using System.Text.Json.Nodes;
using Signet.Bridge.JsonRpc;
using Signet.Mcp;
using Signet.Mcp.Recording;

namespace Signet.Bridge.Sessions;

/// <summary>What happens to one tools/call: forwarded (signed, or unsigned under fail-open), refused with an answer, or dropped.</summary>
/// <param name="Forward">The bytes to send to the backend, or null when the call is not forwarded.</param>
/// <param name="Start">The session's verdict; its <see cref="ToolCallStart.Recorded"/> call must be handed to <see cref="ToolCallSession.Forwarded"/>.</param>
/// <param name="Refusal">The JSON-RPC error to answer the client with (a call with an id that was not forwarded).</param>
internal readonly record struct SignOutcome(byte[]? Forward, ToolCallStart Start, byte[]? Refusal);

/// <summary>
/// The bridge's codec over <see cref="ToolCallSession"/>: a tools/call read from the wire (<see cref="ToolCall"/>) goes
/// to the session, whose verdict becomes the bytes to forward or the error to answer with; an answer read from the wire
/// is recorded through the session.
/// </summary>
internal static class CallSigner
{
    /// <summary>Signs (or refuses) one call. Never throws but for cancellation.</summary>
    public static async ValueTask<SignOutcome> SignAsync(ToolCall call, ToolCallSession session, CancellationToken cancellationToken)
    {
        var start = call.Problem is { } problem
            ? await session.StartUnsignableAsync(call.Wire.HasId, call.Message?["id"], call.Label, "the tools/call cannot be signed: " + problem, call.Params, cancellationToken).ConfigureAwait(false)
            : await session.StartAsync(call.Message!, cancellationToken).ConfigureAwait(false);
        return start.Verdict switch
        {
            ToolCallVerdict.Forward => new SignOutcome(RpcMessage.Serialize(call.Message!), start, null),
            ToolCallVerdict.ForwardAsSent => new SignOutcome(call.Wire.Raw, start, null),
            ToolCallVerdict.Refuse when call.Wire.HasId => new SignOutcome(null, start, RpcMessage.Error(call.Wire.RawId, ToolCallRefusedException.JsonRpcErrorCode, ToolCallSession.ErrorMessage(start.Reason!))),
            _ => new SignOutcome(null, start, null),
        };
    }

    /// <summary>
    /// Records the answer to a signed call. Returns the bytes to deliver: the answer itself, or a JSON-RPC error (with the
    /// client's id) when the session withholds it.
    /// </summary>
    public static async ValueTask<byte[]> RecordAnswerAsync(RpcMessage answer, PendingToolCall call, byte[]? clientId, ToolCallSession session,
        CancellationToken cancellationToken)
    {
        JsonObject? node;
        try
        {
            node = JsonNode.Parse(answer.Raw) as JsonObject;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or ArgumentException)
        {
            node = null;
        }
        return await session.RecordResponseAsync(call, node?["result"], node?["error"], cancellationToken).ConfigureAwait(false) is { } refusal
            ? RpcMessage.Error(clientId ?? answer.RawId, ToolCallRefusedException.JsonRpcErrorCode, ToolCallSession.ErrorMessage(refusal))
            : answer.Raw;
    }
}
