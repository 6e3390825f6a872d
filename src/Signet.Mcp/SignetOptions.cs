using Microsoft.Extensions.Logging;
using Signet.Keys;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Mcp;

/// <summary>
/// How Signet signs and records <c>tools/call</c> traffic: one settings type for every mode (the client transport, the
/// stdio proxy, <c>proxy --url</c>, the bridge and <c>services.AddSignet(…)</c>), so that every policy works the same in each.
/// </summary>
/// <remarks>Settable, so that <c>services.Configure&lt;SignetOptions&gt;</c> and configuration binding can set it; checked when a recorder is made (and, through <c>AddSignet</c>, when the host starts).</remarks>
public sealed class SignetOptions
{
    /// <summary>The agent's signing key. Not owned: dispose it yourself after the client. Not needed when <see cref="Signer"/> is set.</summary>
    public SigningKey? Key { get; set; }

    /// <summary>
    /// The agent's key as any <see cref="ISigner"/> (a PKCS#11 token key, …), used when <see cref="Key"/> is not set.
    /// Not owned: dispose it yourself after the client. Not needed when <see cref="Signer"/> is set.
    /// </summary>
    public ISigner? KeySigner { get; set; }

    /// <summary>The agent's name, signed into every receipt (<c>signer.name</c>). Not needed when <see cref="Signer"/> is set.</summary>
    public string? SignerName { get; set; }

    /// <summary>The agent's owner, signed into every receipt (<c>signer.owner</c>; may be empty).</summary>
    public string SignerOwner { get; set; } = "";

    /// <summary>A ready signer (key, name, owner, clock, randomness), used instead of <see cref="Key"/> and <see cref="SignerName"/>.</summary>
    public ReceiptSigner? Signer { get; set; }

    /// <summary>Where receipts are made durable (the audit log) before a call goes out. Null signs without keeping a local record.</summary>
    public IReceiptSink? AuditLog { get; set; }

    /// <summary>
    /// The tool server, as a URI signed into every receipt (e.g. <c>mcp://filesystem</c>). The client transport defaults
    /// it from the inner transport's name, the proxy from the server command or URL, the bridge from each backend's public URL.
    /// </summary>
    public string? Target { get; set; }

    /// <summary>How calls travel, signed into every receipt: <c>stdio</c> or <c>http</c>. Defaults as <see cref="Target"/> does.</summary>
    public string? Transport { get; set; }

    /// <summary>Which <c>_meta</c> key carries the request receipt (spec-valid <c>dev.signet/receipt</c> by default).</summary>
    public ReceiptMetaKeyMode MetaKeyMode { get; set; } = ReceiptMetaKeyMode.Standard;

    /// <summary>What happens when a receipt cannot be signed or stored: refuse the call (the default) or let it through, loudly.</summary>
    public RecordingFailureMode FailureMode { get; set; } = RecordingFailureMode.FailClosed;

    /// <summary>Server keys whose co-signatures are trusted; when empty, co-signatures are checked for integrity only.</summary>
    public IList<PublicKey> TrustedServerKeys { get; set; } = [];

    /// <summary>
    /// Deliver a response only when it carries a valid co-signature (from a trusted key, when any are set). A policy, not a
    /// recording failure: it holds under <see cref="RecordingFailureMode.FailOpen"/> too.
    /// </summary>
    public bool RequireCoSignature { get; set; }

    /// <summary>
    /// Wait for each response (v2) and co-signature (v3) receipt to be durable, not only written, before the response is
    /// delivered. By default the request receipt is made durable before the call is forwarded, and the receipts of its
    /// response are written before the response is delivered and made durable with the sink's next fsync (the next call's
    /// group commit, or the audit log's flush timer, 100 ms by default): one fsync per call instead of two.
    /// </summary>
    public bool SyncResponseReceipts { get; set; }

    /// <summary>The most calls awaiting a response that a connection tracks; beyond it the oldest is dropped (and reported).</summary>
    public int MaxPendingCalls { get; set; } = 10_000;

    /// <summary>Called for each receipt once it is stored (v1 request, v2 response, v3 co-signature). Exceptions are logged, not propagated.</summary>
    public Action<RecordedReceipt>? OnReceipt { get; set; }

    /// <summary>Called for each recording problem, whether or not it refused the call. Exceptions are logged, not propagated.</summary>
    public Action<ToolCallRecordingError>? OnError { get; set; }

    /// <summary>The clock for receipt timestamps (default: the system clock). Ignored when <see cref="Signer"/> is set (it has its own).</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>The randomness for nonces (default: the system's cryptographic RNG). Ignored when <see cref="Signer"/> is set.</summary>
    public RandomSource? RandomSource { get; set; }

    /// <summary>Logging; receipts and payloads only at Trace level.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>A copy, so that a mode can fill in its defaults without changing the caller's instance.</summary>
    public SignetOptions Clone() => (SignetOptions)MemberwiseClone();

    /// <summary>What is wrong with these settings, one sentence each; empty when they can be used.</summary>
    /// <param name="requireTarget">Whether <see cref="Target"/> must be set (a recorder needs it; a transport fills it in).</param>
    public IReadOnlyList<string> Problems(bool requireTarget = false) => Problems(requireTarget, keyFromServices: false, nameFromServices: false);

    /// <summary>The problems, when the container may supply the key (and the signer's name) that these settings leave unset.</summary>
    internal IReadOnlyList<string> Problems(bool requireTarget, bool keyFromServices, bool nameFromServices)
    {
        var problems = new List<string>();
        if (Signer is null)
        {
            if (Key is null && KeySigner is null && !keyFromServices)
            {
                problems.Add("SignetOptions.Key is not set: give the agent's SigningKey, a KeySigner (or a ready Signer)");
            }
            if (string.IsNullOrWhiteSpace(SignerName) && !nameFromServices)
            {
                problems.Add("SignetOptions.SignerName is not set: give the agent's name, which is signed into every receipt (or a ready Signer)");
            }
        }
        if (requireTarget ? string.IsNullOrWhiteSpace(Target) : Target is { } t && string.IsNullOrWhiteSpace(t))
        {
            problems.Add("SignetOptions.Target is empty: give the tool server as a URI, such as mcp://filesystem");
        }
        if (Transport is { } transport && string.IsNullOrWhiteSpace(transport))
        {
            problems.Add("SignetOptions.Transport is empty: use stdio or http, or leave it unset");
        }
        if (MaxPendingCalls < 1)
        {
            problems.Add($"SignetOptions.MaxPendingCalls must be at least 1, not {MaxPendingCalls}");
        }
        if (!Enum.IsDefined(FailureMode))
        {
            problems.Add($"SignetOptions.FailureMode {FailureMode} is not FailClosed or FailOpen");
        }
        if (!Enum.IsDefined(MetaKeyMode))
        {
            problems.Add($"SignetOptions.MetaKeyMode {MetaKeyMode} is not Standard, Reference or Both");
        }
        if (TrustedServerKeys is null)
        {
            problems.Add("SignetOptions.TrustedServerKeys is null: leave it empty to check co-signatures for integrity only");
        }
        return problems;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming every problem.</summary>
    internal void Validate(bool requireTarget)
    {
        if (Problems(requireTarget) is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join("; ", problems), "options");
        }
    }

    /// <summary>The signer these settings describe: <see cref="Signer"/>, or one made from the key, name and owner.</summary>
    internal ReceiptSigner CreateSigner() =>
        Signer ?? new ReceiptSigner((ISigner?)Key ?? KeySigner!, SignerName!, SignerOwner ?? "", TimeProvider, RandomSource);
}
