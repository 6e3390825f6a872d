namespace Signet.Trust;

/// <summary>Whether a key was trusted, in a section, for a signature made at a given time.</summary>
public sealed record TrustDecision
{
    /// <summary>True when the key is trusted for that signature.</summary>
    public required bool IsTrusted { get; init; }

    /// <summary>The entry that decided, when the key is in the section.</summary>
    public TrustEntry? Entry { get; init; }

    /// <summary>Why it is not trusted (null when it is).</summary>
    public string? Reason { get; init; }
}
