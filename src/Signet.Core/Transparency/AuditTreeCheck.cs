namespace Signet.Transparency;

/// <summary>The result of <see cref="AuditTree.Check"/>: every leaf recomputed from the JSONL and compared with the tiles.</summary>
public sealed record AuditTreeCheck
{
    /// <summary>True when every leaf and every full tile matches the JSONL.</summary>
    public bool Ok { get; init; }

    /// <summary>The tree size checked.</summary>
    public long Size { get; init; }

    /// <summary>Leaves compared before the first difference (all of them when <see cref="Ok"/>).</summary>
    public long LeavesChecked { get; init; }

    /// <summary>The first leaf index whose hash differs (or that the JSONL no longer has); null when OK or when only a higher-level tile differs.</summary>
    public long? FirstDifferentIndex { get; init; }

    /// <summary>The day file of that record; null when unknown.</summary>
    public string? File { get; init; }

    /// <summary>The 1-based line of that record (0 when unknown).</summary>
    public long Line { get; init; }

    /// <summary>The tile (relative path, <c>tile/L/N</c>) that holds the differing hash; null when the difference is in the in-memory right edge or the JSONL is short.</summary>
    public string? TilePath { get; init; }

    /// <summary>What was found, for people.</summary>
    public required string Message { get; init; }
}
