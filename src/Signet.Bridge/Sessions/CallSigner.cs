using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Signet.Bridge.JsonRpc;
using Signet.Canonicalization;
using Signet.Mcp;

namespace Signet.Bridge.Sessions;

/// <summary>Signs a tools/call through the recorder before it is forwarded, and records its answer. Fails closed.</summary>
internal static class CallSigner
{
    /// <summary>
    /// Returns the bytes to forward (the call with its receipt merged into <c>params._meta</c>), or null when the call
    /// was refused; <paramref name="refusal"/> is then the JSON-RPC error to answer with.
    /// </summary>
    public static async ValueTask<byte[]?> SignAsync(RpcMessage call, IToolCallRecorder recorder, string? sessionId, ILogger logger,
        CancellationToken cancellationToken, Action<byte[]> refusal)
    {
        string reason;
        try
        {
            if (StrictJson.Parse(call.Raw) is JsonObject message && message["params"] is JsonObject callParams
                && CallId.From(message["id"]) is { } callId)
            {
                try
                {
                    await recorder.OnRequestAsync(callParams, callId, sessionId, cancellationToken).ConfigureAwait(false);
                    return RpcMessage.Serialize(message);
                }
                catch (ToolCallRefusedException e)
                {
                    reason = e.Message;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    reason = "Signet could not sign and record this call, so it was not forwarded: " + e.Message;
                }
            }
            else
            {
                reason = "Signet refused this tools/call: its params are not an object or its id is not a string or number";
            }
        }
        catch (JsonParseException e)
        {
            reason = "Signet refused this tools/call: " + e.Message;
        }
        BridgeLog.CallRefused(logger, call.IdKey ?? "?", sessionId, reason);
        refusal(RpcMessage.Error(call.IdKey, ToolCallRefusedException.JsonRpcErrorCode, reason));
        return null;
    }

    /// <summary>
    /// Records the answer to a signed call. Returns the bytes to deliver: the answer itself, or a JSON-RPC error when the
    /// recorder refuses to let it through.
    /// </summary>
    public static async ValueTask<byte[]> RecordAnswerAsync(RpcMessage answer, string callId, IToolCallRecorder recorder, string? sessionId,
        ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var node = JsonNode.Parse(answer.Raw) as JsonObject;
            await recorder.OnResponseAsync(callId, sessionId, node?["result"], node?["error"], cancellationToken).ConfigureAwait(false);
            return answer.Raw;
        }
        catch (ToolCallRefusedException e)
        {
            BridgeLog.CallRefused(logger, callId, sessionId, e.Message);
            return RpcMessage.Error(answer.IdKey, ToolCallRefusedException.JsonRpcErrorCode, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The request receipt is already durable; a failed response record is reported, and the answer still delivered.
            BridgeLog.ResponseRecordFailed(logger, sessionId, callId, e.Message);
            return answer.Raw;
        }
    }
}
