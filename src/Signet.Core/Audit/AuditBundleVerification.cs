using Signet.Keys;

namespace Signet.Audit;

/// <summary>The verdict on a bundle. Never thrown.</summary>
public sealed record AuditBundleVerification
{
    /// <summary>True when every check passed.</summary>
    public bool IsValid => Problems.Count == 0;

    /// <summary>Every failed check, in the order found.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>Things a reader should know that do not fail the bundle (e.g. an unanchored signer).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Records in the bundle: the non-blank lines of <c>records.jsonl</c>, counted whether or not the chain breaks.</summary>
    public long RecordCount { get; init; }

    /// <summary>The tip record hash the manifest states.</summary>
    public string? ChainTipRecordHash { get; init; }

    /// <summary>The manifest signer's key, when signed.</summary>
    public PublicKey? SignerKey { get; init; }

    /// <summary>True when the manifest signer is one of the trusted keys.</summary>
    public bool IsAnchored { get; init; }

    /// <summary>The chain walk over records.jsonl.</summary>
    public AuditVerifyResult? Chain { get; init; }

    /// <summary>The bundle's checkpoint, verified (null when the bundle has none or it failed: see <see cref="Problems"/>).</summary>
    public Signet.Transparency.CheckpointVerification? Checkpoint { get; init; }
}
