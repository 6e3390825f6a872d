using Signet.Keys;

namespace Signet.Audit;

/// <summary>Options for <see cref="AuditBundle.Verify"/>.</summary>
public sealed record AuditBundleVerifyOptions
{
    /// <summary>Keys the manifest signer must be one of. Empty: the manifest's own key is used (integrity only).</summary>
    public IReadOnlyList<PublicKey> TrustedKeys { get; init; } = [];

    /// <summary>Accept a bundle whose manifest has no signature (the reference's bundles), checking integrity only.</summary>
    public bool AllowUnsigned { get; init; }

    /// <summary>
    /// Also verify every receipt's signature (forensic), with <see cref="ReceiptTrustedKeys"/>, on one thread per core
    /// (failures are still reported in order).
    /// </summary>
    public bool VerifySignatures { get; init; }

    /// <summary>Keys trusted as receipt signers when <see cref="VerifySignatures"/> is on.</summary>
    public IReadOnlyList<PublicKey> ReceiptTrustedKeys { get; init; } = [];

    /// <summary>
    /// A trust bundle the receipts' keys must be trusted by, in chain order at each receipt's time, as
    /// <see cref="AuditVerifyOptions.TrustBundle"/> (implies <see cref="VerifySignatures"/>). The evidence bundle's own
    /// <c>trust-bundle.json</c> is not used unless passed here: it travels with the evidence and cannot vouch for it.
    /// </summary>
    public Signet.Trust.TrustBundle? ReceiptTrustBundle { get; init; }

    /// <summary>With <see cref="ReceiptTrustBundle"/>: judge keys at this instant instead of at each receipt's time.</summary>
    public DateTimeOffset? ReceiptTrustAt { get; init; }

    /// <summary>The log's note verifier key the bundle's checkpoint must be signed with (default: the manifest signer's key, under the checkpoint's origin).</summary>
    public Signet.Transparency.NoteVerifierKey? CheckpointKey { get; init; }

    /// <summary>The witnesses that must have cosigned the bundle's checkpoint (none by default).</summary>
    public Signet.Transparency.WitnessPolicy? WitnessPolicy { get; init; }
}
