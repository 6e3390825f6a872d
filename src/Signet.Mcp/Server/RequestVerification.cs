using Signet.Receipts;

namespace Signet.Mcp.Server;

/// <summary>The verdict on one call's receipt.</summary>
public sealed record RequestVerification
{
    /// <summary>True when the receipt passed every check.</summary>
    public required bool IsValid { get; init; }

    /// <summary>Why not, as a category.</summary>
    public RequestRejection Rejection { get; init; }

    /// <summary>Why not, in words (null when valid).</summary>
    public string? Reason { get; init; }

    /// <summary>The receipt, when one was found and parsed.</summary>
    public Receipt? Receipt { get; init; }

    /// <summary>The <c>_meta</c> key the receipt came under (<c>dev.signet/receipt</c> or the reference's <c>_signet</c>).</summary>
    public string? MetaKey { get; init; }

    /// <summary>Every receipt key present in the call's <c>_meta</c>.</summary>
    public IReadOnlyList<string> MetaKeys { get; init; } = [];

    /// <summary>True when the signer is one of the trusted agent keys (false when only integrity was checked).</summary>
    public bool IsTrusted { get; init; }

    /// <summary>One line for logs and tool errors.</summary>
    public override string ToString() => IsValid
        ? $"valid receipt {Receipt?.Id} from {Receipt?.SignerKey}{(IsTrusted ? "" : " (integrity only: key not trusted)")}"
        : $"{Rejection}: {Reason}";
}
