using Signet.Keys;
using Signet.Trust;

namespace Signet.Receipts;

/// <summary>How to verify a receipt. The defaults are strict.</summary>
public sealed record ReceiptVerificationOptions
{
    /// <summary>Strict verification with no trusted keys (integrity only: checked against the key the receipt names).</summary>
    public static ReceiptVerificationOptions Default { get; } = new();

    /// <summary>
    /// Keys trusted as signers: for v1/v2 the agent, for v3 the server, for v4 the delegation root.
    /// When set, a receipt signed by any other key is invalid. When empty, the receipt is checked against the key
    /// it names itself, and the result says it is not anchored.
    /// </summary>
    public IReadOnlyList<PublicKey> TrustedKeys { get; init; } = [];

    /// <summary>
    /// A trust bundle the receipt's keys must be trusted by: v1/v2 signers and the agent inside a v3 in its agents,
    /// v3 servers in its servers, v4 delegation roots in its roots, each at the time the receipt says it was signed
    /// (or at <see cref="TrustAt"/>). Applies in addition to <see cref="TrustedKeys"/>; a receipt it trusts is anchored.
    /// </summary>
    public TrustBundle? TrustBundle { get; init; }

    /// <summary>
    /// With <see cref="TrustBundle"/>: judge every key at this instant instead of at the receipt's own time (the
    /// reference Signet's rule, with the verification time: a revoked key's older receipts then fail too).
    /// </summary>
    public DateTimeOffset? TrustAt { get; init; }

    /// <summary>For v3: keys trusted as the agent inside the co-signed receipt (empty: any self-consistent agent).</summary>
    public IReadOnlyList<PublicKey> TrustedAgentKeys { get; init; } = [];

    /// <summary>
    /// For v3, on the agent's side: the v1 receipt this side signed and sent. The embedded agent receipt must then be
    /// that receipt, canonically identical, and its signature is not verified again (it was made here: one Ed25519
    /// verification saved per co-signed response). Without it, the embedded receipt is verified like any other.
    /// </summary>
    public Receipt? KnownAgentReceipt { get; init; }

    /// <summary>
    /// Lax mode reproduces the reference's own checks, to read old evidence: signature and expiry only, duplicate
    /// keys resolved last-wins, unknown fields ignored, id / params_hash / key binding not checked.
    /// </summary>
    public bool Lax { get; init; }

    /// <summary>Accept receipts past their <c>exp</c> (forensic reading of old evidence).</summary>
    public bool AllowExpired { get; init; }

    /// <summary>For v3: the most the server's response time may differ from the agent's request time (zero disables).</summary>
    public TimeSpan MaxTimeWindow { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>For v4: tolerated clock skew when checking delegation expiry at the receipt's time.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>When set, the receipt's session (v3: the agent's) must equal it.</summary>
    public string? ExpectedSession { get; init; }

    /// <summary>When set, the receipt's call id (v3: the agent's) must equal it.</summary>
    public string? ExpectedCallId { get; init; }

    /// <summary>The clock for expiry (default: the system clock).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
