using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Signet.Keys;
using Signet.Mcp;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Bridge.Tests;

/// <summary>A recorder double for unit tests: marks each call's _meta and remembers what it saw.</summary>
internal sealed class TestRecorder : IToolCallRecorder
{
    public ConcurrentQueue<(string CallId, string? SessionId, string Tool)> Requests { get; } = new();
    public ConcurrentQueue<(string CallId, string? SessionId, bool IsError)> Responses { get; } = new();
    private static readonly ReceiptSigner Signer = new(SigningKey.Generate(), "test");

    public Func<JsonObject, bool> Refuse { get; set; } = _ => false;

    /// <summary>The policies a session reads.</summary>
    public SignetOptions Options { get; set; } = new() { Signer = Signer, Target = "mcp://test" };

    /// <summary>Refuse every response, as the real recorder does when a response receipt cannot be stored.</summary>
    public bool RefuseResponses { get; set; }

    public ValueTask<RecordedCall> RecordRequestAsync(JsonObject callParams, string callId, string? sessionId, string? parentReceiptId,
        CancellationToken cancellationToken = default)
    {
        if (Refuse(callParams))
        {
            throw new ToolCallRefusedException("refused by the test recorder");
        }
        var meta = callParams["_meta"] as JsonObject ?? new JsonObject();
        callParams["_meta"] = meta;
        meta["dev.signet.test/receipt"] = callId;
        var tool = callParams["name"]?.GetValue<string>() ?? "?";
        Requests.Enqueue((callId, sessionId, tool));
        var receipt = Signer.SignRequest(new ReceiptAction { Tool = tool, Target = "mcp://test", CallId = callId });
        return ValueTask.FromResult(new RecordedCall(callId, sessionId, tool, receipt, DateTimeOffset.UnixEpoch));
    }

    public ValueTask RecordResponseAsync(RecordedCall call, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default)
    {
        Responses.Enqueue((call.CallId, call.SessionId, error is not null));
        if (RefuseResponses)
        {
            throw new ToolCallRefusedException("the response receipt could not be stored (test recorder)");
        }
        return ValueTask.CompletedTask;
    }
}
