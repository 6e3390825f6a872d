using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Signet.Mcp.Recording;

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

    /// <summary>The policies a session reads (fail-open or not).</summary>
    public SignetOptions Options { get; init; } = DoubleCalls.Options();

    /// <summary>When set, RecordRequestAsync throws this refusal.</summary>
    public string? RefuseRequests { get; set; }

    /// <summary>When set, RecordResponseAsync throws this refusal.</summary>
    public string? RefuseResponses { get; set; }

    /// <summary>When set, RecordRequestAsync waits for it (to test ordering).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public async ValueTask<RecordedCall> RecordRequestAsync(JsonObject callParams, string callId, string? sessionId, string? parentReceiptId,
        CancellationToken cancellationToken = default)
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
        return DoubleCalls.Recorded(callId, sessionId, callParams["name"]?.GetValue<string>() ?? "?");
    }

    public ValueTask RecordResponseAsync(RecordedCall call, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default)
    {
        Responses.Enqueue((call.CallId, result?.ToJsonString(), error?.ToJsonString()));
        if (RefuseResponses is { } reason)
        {
            throw new ToolCallRefusedException(reason);
        }
        return ValueTask.CompletedTask;
    }
}
