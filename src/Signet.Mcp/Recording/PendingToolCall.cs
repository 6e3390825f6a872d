using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Signet.Mcp.Recording;

/// <summary>A signed call that went out and awaits its response.</summary>
public sealed class PendingToolCall
{
    internal PendingToolCall(RecordedCall recorded, JsonNode? id, object? state)
    {
        Recorded = recorded;
        Id = id;
        State = state;
    }

    /// <summary>The call id its receipt signs.</summary>
    public string CallId => Recorded.CallId;

    /// <summary>The tool called.</summary>
    public string Tool => Recorded.Tool;

    /// <summary>The JSON-RPC id as the client sent it: the response goes back under it, whatever form the server echoed.</summary>
    public JsonNode? Id { get; }

    /// <summary>What the adapter kept with the call (e.g. the id in its own type).</summary>
    public object? State { get; }

    /// <summary>The signed request.</summary>
    public RecordedCall Recorded { get; }

    /// <summary>The <c>signet.forward</c> span, from the call going out to its response (null when nobody listens).</summary>
    internal Activity? Span { get; set; }

    /// <summary>Ends the forward span (once), with an error status when <paramref name="error"/> is given.</summary>
    internal void EndSpan(string? error = null)
    {
        if (Span is not { } span)
        {
            return;
        }
        Span = null;
        if (error is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, error);
        }
        span.Dispose();
    }
}
