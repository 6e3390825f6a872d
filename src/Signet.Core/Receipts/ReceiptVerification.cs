using Signet.Keys;

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

/// <summary>The verdict on one receipt: valid, or the reason and the field at fault. Never thrown.</summary>
public sealed record ReceiptVerification
{
    /// <summary>True when every check passed.</summary>
    public required bool IsValid { get; init; }

    /// <summary>Why it is invalid (null when valid).</summary>
    public string? Reason { get; init; }

    /// <summary>The dotted path of the field at fault, e.g. <c>action.params_hash</c> (null when valid or not field-specific).</summary>
    public string? Field { get; init; }

    /// <summary>The receipt version, when it could be read.</summary>
    public int? Version { get; init; }

    /// <summary>The receipt id, when it could be read.</summary>
    public string? ReceiptId { get; init; }

    /// <summary>The key whose signature was checked (the server's for v3).</summary>
    public PublicKey? SignerKey { get; init; }

    /// <summary>True when the signer's key was one of the trusted keys, false when only self-consistency was checked.</summary>
    public bool IsAnchored { get; init; }

    /// <summary>Things that do not invalidate the receipt but that a reader should know.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The parsed receipt, when it could be parsed.</summary>
    public Receipt? Receipt { get; init; }

    /// <summary>One line: <c>valid …</c> or <c>invalid: reason (field)</c>.</summary>
    public override string ToString() => IsValid
        ? $"valid v{Version} {ReceiptId} signed by {SignerKey}{(IsAnchored ? "" : " (integrity only: signer key not anchored)")}"
        : $"invalid: {Reason}{(Field is null ? "" : $" (field {Field})")}";
}
