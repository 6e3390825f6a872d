using Microsoft.Extensions.Logging;
using Signet.Keys;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Mcp.Client;

/// <summary>Settings for a <see cref="SigningTransport"/>.</summary>
public sealed class SigningTransportOptions
{
    /// <summary>The agent's signing key. Not owned: dispose it yourself after the client.</summary>
    public required SigningKey Key { get; init; }

    /// <summary>The agent's name, signed into every receipt (<c>signer.name</c>).</summary>
    public required string SignerName { get; init; }

    /// <summary>The agent's owner, signed into every receipt (<c>signer.owner</c>; may be empty).</summary>
    public string SignerOwner { get; init; } = "";

    /// <summary>The audit log receipts are appended to before a call goes out. Null signs without keeping a local record.</summary>
    public IReceiptSink? AuditLog { get; init; }

    /// <summary>
    /// The tool server, as a URI signed into every receipt. Default: the inner transport's name when it is an
    /// http(s) URL, otherwise <c>mcp://&lt;name&gt;</c> (with the SDK's <c>stdio-</c> prefix removed).
    /// </summary>
    public string? Target { get; init; }

    /// <summary>How calls travel, signed into every receipt. Default: <c>http</c> when the target is an http(s) URL, otherwise <c>stdio</c>.</summary>
    public string? Transport { get; init; }

    /// <summary>Which <c>_meta</c> key carries the receipt (spec-valid <c>dev.signet/receipt</c> by default).</summary>
    public ReceiptMetaKeyMode MetaKeyMode { get; init; } = ReceiptMetaKeyMode.Standard;

    /// <summary>Refuse calls whose receipt cannot be signed or stored (the default), or let them through.</summary>
    public RecordingFailureMode FailureMode { get; init; } = RecordingFailureMode.FailClosed;

    /// <summary>Server keys whose co-signatures are trusted; when empty, co-signatures are checked for integrity only.</summary>
    public IReadOnlyList<PublicKey> TrustedServerKeys { get; init; } = [];

    /// <summary>Deliver a response only when it carries a valid co-signature (from a trusted key, when any are set).</summary>
    public bool RequireCoSignature { get; init; }

    /// <summary>
    /// Wait for each response (v2) and co-signature (v3) receipt to be durable, not only written, before the response is
    /// delivered. By default the request receipt is made durable before the call is forwarded, and the receipts of its
    /// response are written before the response is delivered and made durable with the sink's next fsync (the next call's
    /// group commit, or the audit log's flush timer, 100 ms by default): one fsync per call instead of two.
    /// </summary>
    public bool SyncResponseReceipts { get; init; }

    /// <summary>Called for each receipt once it is stored (v1 request, v2 response, v3 co-signature).</summary>
    public Action<RecordedReceipt>? OnReceipt { get; init; }

    /// <summary>Called for each recording problem, whether or not it refused the call.</summary>
    public Action<ToolCallRecordingError>? OnError { get; init; }

    /// <summary>The clock for receipt timestamps (default: the system clock).</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>The randomness for nonces (default: the system's cryptographic RNG).</summary>
    public RandomSource? RandomSource { get; init; }

    /// <summary>The most calls awaiting a response that are tracked per connection.</summary>
    public int MaxPendingCalls { get; init; } = 10_000;

    /// <summary>Logging; payloads only at Trace level.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
