using Signet.Canonicalization;

namespace Signet.Audit;

/// <summary>The outcome of walking the chain.</summary>
public sealed record AuditVerifyResult
{
    /// <summary>True when the whole chain links and every record hash recomputes (and, if asked, every signature verifies).</summary>
    public bool IsValid => Break is null && SignatureFailures.Count == 0;

    /// <summary>True when the chain itself holds (signatures aside).</summary>
    public bool IsIntact => Break is null;

    /// <summary>The first break, or null.</summary>
    public AuditBreak? Break { get; init; }

    /// <summary>Records read, up to and including the break.</summary>
    public long RecordCount { get; init; }

    /// <summary>The record_hash of the last record that verified (genesis for an empty log).</summary>
    public string TipHash { get; init; } = SignetHash.Genesis;

    /// <summary>The file of the tip record, or null for an empty log.</summary>
    public string? TipFile { get; init; }

    /// <summary>The line of the tip record.</summary>
    public long TipLine { get; init; }

    /// <summary>The day files (<c>YYYY-MM-DD.jsonl</c>) walked, in order.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>
    /// Other <c>*.jsonl</c> files in the audit directory: not day files, so not part of the chain and not walked (the
    /// reference's verifier would walk them; no writer of this implementation makes them). Reported, not a break.
    /// </summary>
    public IReadOnlyList<string> OtherFiles { get; init; } = [];

    /// <summary>Corrupt lines that <c>signet log repair</c> moved aside (kept as <c>.corrupt</c> files).</summary>
    public IReadOnlyList<AuditRepairFile> RepairFiles { get; init; } = [];

    /// <summary>Torn tails that a writer moved aside earlier (kept as <c>.torn</c> files).</summary>
    public IReadOnlyList<AuditTornTailFile> TornTails { get; init; } = [];

    /// <summary>Signatures checked (when asked).</summary>
    public long SignaturesChecked { get; init; }

    /// <summary>Records whose signature did not verify (when asked).</summary>
    public IReadOnlyList<AuditSignatureFailure> SignatureFailures { get; init; } = [];

    /// <summary>With a trust bundle: the key rotations announced in the log, accepted or not, in chain order.</summary>
    public IReadOnlyList<AuditKeyRotation> KeyRotations { get; init; } = [];
}
