using Microsoft.Extensions.Logging;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Mcp.Recording;

/// <summary>Settings for a <see cref="ToolCallRecorder"/>.</summary>
public sealed class ToolCallRecorderOptions
{
    /// <summary>Signs the receipts with the agent's key; its clock stamps them.</summary>
    public required ReceiptSigner Signer { get; init; }

    /// <summary>Where receipts are made durable (the audit log). Null signs without keeping a local record.</summary>
    public IReceiptSink? Sink { get; init; }

    /// <summary>The tool server the calls go to, as a URI (e.g. <c>mcp://filesystem</c>); signed into every receipt.</summary>
    public required string Target { get; init; }

    /// <summary>How calls travel, signed into every receipt: <c>stdio</c> (the default), <c>http</c>, ….</summary>
    public string Transport { get; init; } = "stdio";

    /// <summary>Which <c>_meta</c> key the request receipt is written under (spec-valid by default).</summary>
    public ReceiptMetaKeyMode MetaKeyMode { get; init; } = ReceiptMetaKeyMode.Standard;

    /// <summary>What happens when a receipt cannot be signed or stored: refuse the call (the default) or let it through.</summary>
    public RecordingFailureMode FailureMode { get; init; } = RecordingFailureMode.FailClosed;

    /// <summary>
    /// Server keys whose co-signatures are trusted. When empty, a co-signature is checked for integrity only
    /// (against the key it names) and reported as not anchored.
    /// </summary>
    public IReadOnlyList<PublicKey> TrustedServerKeys { get; init; } = [];

    /// <summary>Refuse a response that carries no valid co-signature (from a trusted key, when any are configured).</summary>
    public bool RequireCoSignature { get; init; }

    /// <summary>
    /// Wait for each response (v2) and co-signature (v3) receipt to be durable, not only written, before the response is
    /// delivered. By default the request receipt is made durable before the call is forwarded, and the receipts of its
    /// response are written before the response is delivered and made durable with the sink's next fsync (the next call's
    /// group commit, or the audit log's flush timer, 100 ms by default): one fsync per call instead of two.
    /// </summary>
    public bool SyncResponseReceipts { get; init; }

    /// <summary>Called for every receipt after it is stored (or signed, without a sink). Exceptions are logged, not propagated.</summary>
    public Action<RecordedReceipt>? OnReceipt { get; init; }

    /// <summary>Called for every recording problem, whether or not it refuses the call. Exceptions are logged, not propagated.</summary>
    public Action<ToolCallRecordingError>? OnError { get; init; }

    /// <summary>The most calls awaiting a response that are remembered; beyond it the oldest is dropped (and reported).</summary>
    public int MaxPendingCalls { get; init; } = 10_000;

    /// <summary>Logging; receipts and payloads are logged only at Trace level.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}

