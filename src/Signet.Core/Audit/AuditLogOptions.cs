namespace Signet.Audit;

/// <summary>When an append counts as done.</summary>
public enum AuditDurability
{
    /// <summary>The append completes only after the record is fsynced; concurrent appends share one fsync (group commit).</summary>
    Durable,

    /// <summary>The append completes once the record is written to the OS; fsync runs on a short timer and on close.</summary>
    Fast,
}

/// <summary>Options for <see cref="AuditLog.Open"/>.</summary>
public sealed record AuditLogOptions
{
    /// <summary>Durable (the default) or fast.</summary>
    public AuditDurability Durability { get; init; } = AuditDurability.Durable;

    /// <summary>The clock that picks the day file (UTC date of the append).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How often records written without an fsync (fast mode; deferred appends in durable mode) are fsynced at the latest (default 100 ms).</summary>
    public TimeSpan FastFlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The most records one write and fsync may carry (default 4096).</summary>
    public int MaxBatchSize { get; init; } = 4096;

    /// <summary>
    /// Check the day file by looking its path up, as on systems without <c>statx</c>, instead of one <c>statx</c> of the
    /// open file (for tests of that path on Linux).
    /// </summary>
    internal bool CheckFileByPath { get; init; }
}

/// <summary>Where an appended record landed.</summary>
/// <param name="RecordHash">The record's <c>record_hash</c>.</param>
/// <param name="PrevHash">The <c>prev_hash</c> it links to.</param>
/// <param name="File">The day file's full path.</param>
/// <param name="Line">The one-based line number in that file.</param>
public sealed record AuditAppendResult(string RecordHash, string PrevHash, string File, long Line);

/// <summary>A torn (partial) last line found on open or before an append, moved aside for forensics.</summary>
/// <param name="File">The day file it was cut from.</param>
/// <param name="Line">The one-based line number it started on.</param>
/// <param name="Offset">The byte offset it started at.</param>
/// <param name="Length">Its length in bytes.</param>
/// <param name="SavedAs">The file that now holds the bytes (<c>&lt;day file&gt;.&lt;offset&gt;.torn</c>).</param>
/// <param name="Reason">Why it was not a record (no newline, or the parse error).</param>
public sealed record AuditTornTail(string File, long Line, long Offset, long Length, string SavedAs, string Reason);

/// <summary>The log writer refuses appends after a write or fsync error; this names the original cause.</summary>
public sealed class AuditLogFailedException : SignetException
{
    /// <summary>Creates the exception.</summary>
    public AuditLogFailedException(string message, Exception? cause)
        : base(message, cause ?? new InvalidOperationException(message))
    {
    }
}
