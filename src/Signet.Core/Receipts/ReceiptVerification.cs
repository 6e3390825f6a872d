using Signet.Keys;

namespace Signet.Receipts;

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
