namespace Signet.Canonicalization;

/// <summary>What a parser does when an object repeats a key.</summary>
public enum DuplicateKeyPolicy
{
    /// <summary>Reject the document (I-JSON, RFC 7493; the default).</summary>
    Reject,

    /// <summary>Keep the last value silently, as the reference Signet's serde_json parser does.</summary>
    LastWins,
}
