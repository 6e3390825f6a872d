using Signet.Receipts;

namespace Signet.Mcp.Recording;

/// <summary>A receipt the recorder signed or accepted.</summary>
/// <param name="Receipt">The receipt.</param>
/// <param name="Kind">Request (v1), response (v2) or co-signature (v3).</param>
/// <param name="CallId">The call it belongs to (<c>n:7</c> / <c>s:abc</c>).</param>
/// <param name="SessionId">The MCP session, when there is one.</param>
/// <param name="IsAnchored">For a co-signature: the server key is one of the trusted keys (false: integrity only). True for the agent's own receipts.</param>
/// <param name="IsStored">True when the receipt reached the sink; false without a sink or when a fail-open append failed.</param>
public sealed record RecordedReceipt(Receipt Receipt, RecordedReceiptKind Kind, string CallId, string? SessionId, bool IsAnchored, bool IsStored);
