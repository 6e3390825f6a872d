using Signet.Receipts;

namespace Signet.Mcp.Recording;

/// <summary>
/// A <c>tools/call</c> request whose receipt is signed (and, with an audit log, durable): the token its response is
/// recorded against. The recorder keeps no calls of its own; the connection's <see cref="ToolCallSession"/> holds this
/// until the response comes.
/// </summary>
/// <param name="CallId">The call id signed into the receipt (<c>n:7</c>, <c>s:abc</c>).</param>
/// <param name="SessionId">The MCP session, when there is one.</param>
/// <param name="Tool">The tool called.</param>
/// <param name="Receipt">The request's v1 receipt.</param>
/// <param name="RequestTime">When the request was signed: the v2 receipt's <c>ts_request</c>.</param>
public sealed record RecordedCall(string CallId, string? SessionId, string Tool, Receipt Receipt, DateTimeOffset RequestTime)
{
    /// <summary>The W3C <c>traceparent</c> the call carried in <c>_meta</c>: the trace its spans continue.</summary>
    internal string? TraceParent { get; init; }

    /// <summary>The W3C <c>tracestate</c> beside it.</summary>
    internal string? TraceState { get; init; }
}
