using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Signet.Mcp.Recording;

namespace Signet.Mcp.Tests.Recording;

/// <summary>
/// Drives a recorder as every adapter does: through one <see cref="ToolCallSession"/> per MCP session id, the call
/// forwarded when the session says so, and a refusal surfacing as <see cref="ToolCallRefusedException"/> with the
/// reason the client would be sent.
/// </summary>
internal static class SessionDriver
{
    private static readonly ConditionalWeakTable<ToolCallRecorder, Dictionary<string, ToolCallSession>> Sessions = new();

    /// <summary>The JSON-RPC id a call id stands for (<c>n:7</c> → 7, <c>s:abc</c> → "abc").</summary>
    public static JsonNode IdOf(string callId) =>
        callId.StartsWith("s:", StringComparison.Ordinal) ? JsonValue.Create(callId[2..]) : JsonNode.Parse(callId[2..])!;

    public static ToolCallSession SessionOf(ToolCallRecorder recorder, string? sessionId)
    {
        var map = Sessions.GetOrCreateValue(recorder);
        lock (map)
        {
            if (!map.TryGetValue(sessionId ?? "", out var session))
            {
                map[sessionId ?? ""] = session = recorder.CreateSession(sessionId);
            }
            return session;
        }
    }

    extension(ToolCallRecorder recorder)
    {
        /// <summary>The calls awaiting their response, over every session.</summary>
        public int PendingCount
        {
            get
            {
                var map = Sessions.GetOrCreateValue(recorder);
                lock (map)
                {
                    return map.Values.Sum(s => s.PendingCount);
                }
            }
        }

        public async ValueTask OnRequestAsync(JsonObject callParams, string callId, string? sessionId)
        {
            var session = SessionOf(recorder, sessionId);
            var start = await session.StartAsync(true, IdOf(callId), true, callParams);
            if (start.Verdict is ToolCallVerdict.Refuse or ToolCallVerdict.Drop)
            {
                throw start.Exception is { } cause ? new ToolCallRefusedException(start.Reason!, cause) : new ToolCallRefusedException(start.Reason!);
            }
            session.Forwarded(start);
        }

        public async ValueTask OnResponseAsync(string callId, string? sessionId, JsonNode? result, JsonNode? error)
        {
            var session = SessionOf(recorder, sessionId);
            if (!session.TryTakeResponse(callId, out var call))
            {
                return;
            }
            if (await session.RecordResponseAsync(call, result, error) is { } refusal)
            {
                throw new ToolCallRefusedException(refusal);
            }
        }

        public void Forget(string callId, string? sessionId) => SessionOf(recorder, sessionId).Cancel(IdOf(callId));
    }
}
