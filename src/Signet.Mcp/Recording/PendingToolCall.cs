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
}
