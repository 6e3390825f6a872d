using Signet.Mcp;
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Signet.Mcp.Recording;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Cli.Tests.Proxy;

/// <summary>
/// A recorder whose requests and responses each wait for their own gate, so a test can finish recordings in any order
/// and see how many are in flight at once.
/// </summary>
internal sealed class GatedRecorder : IToolCallRecorder
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string?>> _requestGates = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string?>> _responseGates = new();
    private readonly TaskCompletionSource _requestsStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _responsesStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _expectedRequests;
    private readonly int _expectedResponses;
    private int _requestsInFlight;
    private int _responsesInFlight;

    /// <param name="expectedRequests">How many request recordings must be in flight together for <see cref="RequestsInFlight"/> to complete.</param>
    /// <param name="expectedResponses">The same for responses.</param>
    public GatedRecorder(int expectedRequests, int expectedResponses = int.MaxValue)
    {
        _expectedRequests = expectedRequests;
        _expectedResponses = expectedResponses;
    }

    /// <summary>Completes once the expected number of request recordings are all waiting at their gates at the same time.</summary>
    public Task RequestsInFlight => _requestsStarted.Task.WaitAsync(PipeHarness.Timeout);

    /// <summary>Completes once the expected number of response recordings are all waiting at the same time.</summary>
    public Task ResponsesInFlight => _responsesStarted.Task.WaitAsync(PipeHarness.Timeout);

    public SignetOptions Options { get; init; } = DoubleCalls.Options();

    /// <summary>The call id of each call seen, by its <c>arguments.message</c> (for clients that choose their own ids).</summary>
    public ConcurrentDictionary<string, string> CallIdByMessage { get; } = new();

    /// <summary>Lets the request recording of <paramref name="callId"/> finish: signed, or refused with <paramref name="refusal"/>.</summary>
    public void ReleaseRequest(string callId, string? refusal = null) => Gate(_requestGates, callId).SetResult(refusal);

    /// <summary>Lets the response recording of <paramref name="callId"/> finish.</summary>
    public void ReleaseResponse(string callId, string? refusal = null) => Gate(_responseGates, callId).SetResult(refusal);

    public async ValueTask<RecordedCall> RecordRequestAsync(JsonObject callParams, string callId, string? sessionId, string? parentReceiptId,
        CancellationToken cancellationToken = default)
    {
        if (callParams["arguments"]?["message"] is JsonValue message && message.TryGetValue<string>(out var text))
        {
            CallIdByMessage[text] = callId;
        }
        if (Interlocked.Increment(ref _requestsInFlight) == _expectedRequests)
        {
            _requestsStarted.TrySetResult();
        }
        var refusal = await Gate(_requestGates, callId).Task.WaitAsync(cancellationToken);
        Interlocked.Decrement(ref _requestsInFlight);
        if (refusal is not null)
        {
            throw new ToolCallRefusedException(refusal);
        }
        if (callParams["_meta"] is not JsonObject meta)
        {
            callParams["_meta"] = meta = new JsonObject();
        }
        meta[RecorderDouble.MetaKey] = callId;
        return DoubleCalls.Recorded(callId, sessionId, "gated");
    }

    public async ValueTask RecordResponseAsync(RecordedCall call, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default)
    {
        var callId = call.CallId;
        if (Interlocked.Increment(ref _responsesInFlight) == _expectedResponses)
        {
            _responsesStarted.TrySetResult();
        }
        var refusal = await Gate(_responseGates, callId).Task.WaitAsync(cancellationToken);
        Interlocked.Decrement(ref _responsesInFlight);
        if (refusal is not null)
        {
            throw new ToolCallRefusedException(refusal);
        }
    }

    private static TaskCompletionSource<string?> Gate(ConcurrentDictionary<string, TaskCompletionSource<string?>> gates, string callId) =>
        gates.GetOrAdd(callId, _ => new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously));
}
