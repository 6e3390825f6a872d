using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Signet.Mcp;

namespace Signet.Bridge.Tests;

/// <summary>A recorder double for unit tests: marks each call's _meta and remembers what it saw.</summary>
internal sealed class TestRecorder : IToolCallRecorder
{
    public ConcurrentQueue<(string CallId, string? SessionId, string Tool)> Requests { get; } = new();
    public ConcurrentQueue<(string CallId, string? SessionId, bool IsError)> Responses { get; } = new();
    public Func<JsonObject, bool> Refuse { get; set; } = _ => false;

    /// <summary>Refuse every response, as the real recorder does when a response receipt cannot be stored.</summary>
    public bool RefuseResponses { get; set; }

    public ValueTask OnRequestAsync(JsonObject callParams, string callId, string? sessionId, CancellationToken cancellationToken = default)
    {
        if (Refuse(callParams))
        {
            throw new ToolCallRefusedException("refused by the test recorder");
        }
        var meta = callParams["_meta"] as JsonObject ?? new JsonObject();
        callParams["_meta"] = meta;
        meta["dev.signet.test/receipt"] = callId;
        Requests.Enqueue((callId, sessionId, callParams["name"]?.GetValue<string>() ?? "?"));
        return ValueTask.CompletedTask;
    }

    public ValueTask OnResponseAsync(string callId, string? sessionId, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default)
    {
        Responses.Enqueue((callId, sessionId, error is not null));
        if (RefuseResponses)
        {
            throw new ToolCallRefusedException("the response receipt could not be stored (test recorder)");
        }
        return ValueTask.CompletedTask;
    }

    public void Forget(string callId, string? sessionId)
    {
    }
}
