using System.Text.Json.Nodes;

namespace Signet.Mcp.Recording;

/// <summary>What the session decided for one <c>tools/call</c> request, and what the adapter needs to carry it out.</summary>
public sealed class ToolCallStart
{
    internal ToolCallStart(ToolCallVerdict verdict, string label, string? callId, JsonNode? id, string? reason, RecordedCall? recorded,
        Exception? exception = null)
    {
        Exception = exception;
        Verdict = verdict;
        Label = label;
        CallId = callId;
        Id = id;
        Reason = reason;
        Recorded = recorded;
    }

    /// <summary>What to do with the call.</summary>
    public ToolCallVerdict Verdict { get; }

    /// <summary>The call as the operator log names it: its call id, its id as sent, or <c>(no id)</c>.</summary>
    public string Label { get; }

    /// <summary>The call id (<c>n:7</c>, <c>s:abc</c>), or null when the call has no usable id.</summary>
    public string? CallId { get; }

    /// <summary>The call's JSON-RPC id as the client sent it (a copy), or null.</summary>
    public JsonNode? Id { get; }

    /// <summary>Why the call is refused, dropped or unsigned; null when it was signed and recorded.</summary>
    public string? Reason { get; }

    /// <summary>The failure behind a refusal or a fail-open pass, when there was one (for the caller's exception chain, never for the client).</summary>
    public Exception? Exception { get; }

    /// <summary>The signed request, when there is one: what the response is recorded against.</summary>
    public RecordedCall? Recorded { get; }

    /// <summary>The JSON-RPC error object that answers a refused call (see <see cref="ToolCallSession.Error(string)"/>).</summary>
    public JsonObject Error() => ToolCallSession.Error(Reason ?? "the call was refused");
}
