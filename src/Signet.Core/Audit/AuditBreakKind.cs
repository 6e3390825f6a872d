namespace Signet.Audit;

/// <summary>What kind of damage a chain break shows.</summary>
public enum AuditBreakKind
{
    /// <summary>A record's content (receipt or prev_hash) no longer matches its record_hash.</summary>
    Edited,

    /// <summary>A record links to a record that is not in the log: one was deleted (or the one before it was rewritten with a recomputed hash).</summary>
    Deleted,

    /// <summary>A record links to a record that is present but elsewhere in the log: records were moved or duplicated.</summary>
    Reordered,

    /// <summary>A line is not JSON, or not a record.</summary>
    Unparseable,

    /// <summary>A line repeats a key, which lets two readers see two different records.</summary>
    DuplicateKey,

    /// <summary>The last line of the log has no newline: a write was cut short and has not been recovered yet.</summary>
    TornTail,

    /// <summary>The log does not contain the tip the caller expected: records at the end were removed.</summary>
    Truncated,
}
