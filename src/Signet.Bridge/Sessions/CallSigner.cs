using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Signet.Bridge.JsonRpc;
using Signet.Mcp;

namespace Signet.Bridge.Sessions;

/// <summary>What happens to one tools/call: forwarded (signed, or unsigned under fail-open), refused with an answer, or dropped.</summary>
/// <param name="Forward">The bytes to send to the backend, or null when the call is not forwarded.</param>
/// <param name="CallId">The signed call's id, whose answer must be recorded; null when nothing was signed.</param>
/// <param name="Refusal">The JSON-RPC error to answer the client with (a call with an id that was not forwarded).</param>
internal readonly record struct SignOutcome(byte[]? Forward, string? CallId, byte[]? Refusal);

/// <summary>
/// Signs a tools/call through the recorder before it is forwarded, and records its answer. Fails closed, unless the
/// bridge runs with fail-open: then a call that cannot be signed or recorded goes out as it came, with one critical
/// <c>FAIL-OPEN</c> log line naming the call and the cause.
/// </summary>
internal static class CallSigner
{
    /// <summary>Signs (or refuses) one call. Never throws but for cancellation.</summary>
    public static async ValueTask<SignOutcome> SignAsync(ToolCall call, IToolCallRecorder recorder, string? sessionId, bool failOpen, ILogger logger,
        CancellationToken cancellationToken)
    {
        string reason;
        if (call.Problem is { } problem)
        {
            reason = "Signet refused this tools/call: " + problem;
            if (failOpen)
            {
                BridgeLog.ForwardedUnsigned(logger, call.Label, sessionId, BridgeText.Sentence(reason));
                return new SignOutcome(call.Wire.Raw, null, null);
            }
            reason = BridgeText.Sentence(reason + ". Nothing was sent to the tool server");
            BridgeLog.CallRefused(logger, call.Label, sessionId, reason);
            await RecordRejectionAsync(call, recorder, sessionId, reason, cancellationToken).ConfigureAwait(false);
            return new SignOutcome(null, null, call.Wire.HasId ? RpcMessage.Error(call.Wire.RawId, ToolCallRefusedException.JsonRpcErrorCode, reason) : null);
        }

        var callId = call.CallId!;
        try
        {
            await recorder.OnRequestAsync(call.Params!, callId, sessionId, cancellationToken).ConfigureAwait(false);
            return new SignOutcome(RpcMessage.Serialize(call.Message!), callId, null);
        }
        catch (ToolCallRefusedException e)
        {
            reason = e.Message;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            reason = "Signet could not sign and record this call, so it was not forwarded: " + e.Message;
        }
        recorder.Forget(callId, sessionId);
        reason = BridgeText.Sentence(reason);
        if (failOpen)
        {
            BridgeLog.ForwardedUnsigned(logger, callId, sessionId, reason);
            return new SignOutcome(call.Wire.Raw, null, null);
        }
        BridgeLog.CallRefused(logger, callId, sessionId, reason);
        return new SignOutcome(null, null, RpcMessage.Error(call.Wire.RawId, ToolCallRefusedException.JsonRpcErrorCode, reason));
    }

    /// <summary>
    /// The bridge's own refusal, recorded by the recorder as a signed receipt with outcome rejected (the same record the
    /// proxy and the library write), where the call's params are an object to record.
    /// </summary>
    private static ValueTask RecordRejectionAsync(ToolCall call, IToolCallRecorder recorder, string? sessionId, string reason,
        CancellationToken cancellationToken) =>
        call.Params is { } callParams
            ? recorder.OnRefusedAsync(callParams, call.CallId, sessionId, reason, cancellationToken)
            : ValueTask.CompletedTask;

    /// <summary>
    /// Records the answer to a signed call. Returns the bytes to deliver: the answer itself, or a JSON-RPC error (with the
    /// client's id) when the recorder refuses to let it through and the bridge does not fail open.
    /// </summary>
    public static async ValueTask<byte[]> RecordAnswerAsync(RpcMessage answer, string callId, byte[]? clientId, IToolCallRecorder recorder,
        string? sessionId, bool failOpen, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var node = JsonNode.Parse(answer.Raw) as JsonObject;
            await recorder.OnResponseAsync(callId, sessionId, node?["result"], node?["error"], cancellationToken).ConfigureAwait(false);
            return answer.Raw;
        }
        catch (ToolCallRefusedException e)
        {
            var reason = BridgeText.Sentence(e.Message);
            if (failOpen)
            {
                BridgeLog.DeliveredUnrecorded(logger, callId, sessionId, reason);
                return answer.Raw;
            }
            BridgeLog.CallRefused(logger, callId, sessionId, reason);
            return RpcMessage.Error(clientId ?? answer.RawId, ToolCallRefusedException.JsonRpcErrorCode, reason);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The request receipt is already durable; a failed response record is reported, and the answer still delivered.
            BridgeLog.ResponseRecordFailed(logger, sessionId, callId, BridgeText.Sentence(e.Message));
            return answer.Raw;
        }
    }
}
