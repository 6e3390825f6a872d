namespace Signet.Transparency;

/// <summary>What one catch-up of the tree with the JSONL did.</summary>
public sealed record AuditTreeCatchUp
{
    /// <summary>Leaves added to the tree (after a rebuild: every leaf).</summary>
    public long RecordsAdded { get; init; }

    /// <summary>The tree size afterwards.</summary>
    public long Size { get; init; }

    /// <summary>Full tiles written that were missing.</summary>
    public int TilesWritten { get; init; }

    /// <summary>Tiles rewritten because they were missing, the wrong size or held other hashes than the JSONL gives.</summary>
    public int TilesRepaired { get; init; }

    /// <summary>True when the tiles were checked and rebuilt from the start of the JSONL (damaged tiles, missing or stale resume state, a changed last record).</summary>
    public bool Rebuilt { get; init; }

    /// <summary>Why it rebuilt, for people; null when it did not.</summary>
    public string? RebuildReason { get; init; }

    /// <summary>The day file of a complete line that is not a JSON object, before which the tree stops; null when it did not stop.</summary>
    public string? StoppedAtFile { get; init; }

    /// <summary>The 1-based line number of that line (0 when it did not stop).</summary>
    public long StoppedAtLine { get; init; }

    /// <summary>Why the tree stops there, for people.</summary>
    public string? StopReason { get; init; }
}
