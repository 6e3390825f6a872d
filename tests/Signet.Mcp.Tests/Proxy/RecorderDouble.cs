using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Signet.Mcp.Tests.Proxy;

/// <summary>
/// A unit-test double of <see cref="IToolCallRecorder"/>: it "signs" by merging a marker into <c>_meta</c> and
/// remembers what it saw, so the engine's traffic rules can be tested without keys or files.
/// </summary>
internal sealed class RecorderDouble : IToolCallRecorder
{
    public const string MetaKey = "test.signet/receipt";

    public ConcurrentQueue<(string CallId, string Params)> Requests { get; } = new();

    public ConcurrentQueue<(string CallId, string? Result, string? Error)> Responses { get; } = new();

    public ConcurrentQueue<string> Forgotten { get; } = new();

    /// <summary>When set, OnRequestAsync throws this refusal.</summary>
    public string? RefuseRequests { get; set; }

    /// <summary>When set, OnResponseAsync throws this refusal.</summary>
    public string? RefuseResponses { get; set; }

    /// <summary>When set, OnRequestAsync waits for it (to test ordering).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public async ValueTask OnRequestAsync(JsonObject callParams, string callId, string? sessionId, CancellationToken cancellationToken = default)
    {
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }
        Requests.Enqueue((callId, callParams.ToJsonString()));
        if (RefuseRequests is { } reason)
        {
            throw new ToolCallRefusedException(reason);
        }
        if (callParams["_meta"] is not JsonObject meta)
        {
            callParams["_meta"] = meta = new JsonObject();
        }
        meta[MetaKey] = callId;
    }

    public ValueTask OnResponseAsync(string callId, string? sessionId, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default)
    {
        Responses.Enqueue((callId, result?.ToJsonString(), error?.ToJsonString()));
        if (RefuseResponses is { } reason)
        {
            throw new ToolCallRefusedException(reason);
        }
        return ValueTask.CompletedTask;
    }

    public void Forget(string callId, string? sessionId) => Forgotten.Enqueue(callId);
}
