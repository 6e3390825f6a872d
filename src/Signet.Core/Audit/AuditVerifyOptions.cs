using Signet.Keys;
using Signet.Trust;

namespace Signet.Audit;

/// <summary>Options for <see cref="AuditVerifier.Verify"/>.</summary>
public sealed record AuditVerifyOptions
{
    /// <summary>Also verify every receipt's signature (forensic: expired receipts accepted).</summary>
    public bool VerifySignatures { get; init; }

    /// <summary>With signatures on: keys a receipt's signer (or a v3 server) must be one of. Empty: self-asserted keys.</summary>
    public IReadOnlyList<PublicKey> TrustedKeys { get; init; } = [];

    /// <summary>
    /// A trust bundle every receipt's keys must be trusted by, at each receipt's time (implies
    /// <see cref="VerifySignatures"/>). Judged in chain order: rotations announced in the log
    /// (<see cref="KeyRotation"/>) extend it from their record on, and a receipt dated before its key's revocation that
    /// follows a record dated after it is refused as backdated.
    /// </summary>
    public TrustBundle? TrustBundle { get; init; }

    /// <summary>With <see cref="TrustBundle"/>: judge keys at this instant instead of at each receipt's time (the reference's rule).</summary>
    public DateTimeOffset? TrustAt { get; init; }

    /// <summary>A record_hash the log must still contain (a tip seen earlier, e.g. from an exported manifest); detects truncation.</summary>
    public string? ExpectedTip { get; init; }

    /// <summary>
    /// Records read and hashed per block when hashing in parallel (memory is bounded by one block). Small blocks keep
    /// the parsed records short-lived, which matters more to the garbage collector than the join per block.
    /// </summary>
    public int BlockSize { get; init; } = 256;

    /// <summary>
    /// Threads that hash a block and, with <see cref="VerifySignatures"/>, check its signatures (at most 8). Null, the
    /// default: one per core when signatures are checked, else one. Hashing alone gains only on idle cores (on a busy
    /// 2-core machine the join per block cost more CPU than it saved); a signature check costs about twenty times the
    /// hashing and gains 1.4–1.6× on two cores (docs/benchmarks.md). Breaks and signature failures are reported in
    /// chain order whatever the setting.
    /// </summary>
    public int? MaxDegreeOfParallelism { get; init; }

    /// <summary>The threads a verification uses: <see cref="MaxDegreeOfParallelism"/>, or its default, within 1–8 and the cores.</summary>
    internal int Threads =>
        Math.Clamp(Math.Min(MaxDegreeOfParallelism ?? (VerifySignatures ? Environment.ProcessorCount : 1), Environment.ProcessorCount), 1, 8);
}
