namespace Signet.Audit;

/// <summary>A complete last line of the log that a writer cannot continue the chain from.</summary>
/// <param name="File">The day file (full path).</param>
/// <param name="Line">One-based line number.</param>
/// <param name="Offset">Byte offset of the line's start.</param>
/// <param name="Length">Bytes from the line's start to the end of the file (the line, its newline, trailing blank lines).</param>
/// <param name="Reason">Why it is not a record the chain can continue from.</param>
public sealed record AuditCorruptLine(string File, long Line, long Offset, long Length, string Reason)
{
    /// <summary>Where <c>signet log repair</c> moves it: <c>YYYY-MM-DD.jsonl.&lt;offset&gt;.corrupt</c> beside the day file.</summary>
    public string RepairPath => $"{File}.{Offset}{AuditRecordFormat.RepairSuffix}";
}

/// <summary>
/// The log's last line ends with a newline but is not a record whose hash matches its content. A crash cannot leave
/// that (it leaves at most a last line without its newline, which is moved aside on open), so the writer refuses to
/// append rather than hide the change; <c>signet log repair</c> (<see cref="AuditLog.RepairAsync"/>) moves the line
/// aside and records that in the log.
/// </summary>
public sealed class AuditLogCorruptException : SignetException
{
    /// <summary>Creates the exception for a corrupt last line.</summary>
    public AuditLogCorruptException(AuditCorruptLine corruption)
        : base(Describe(corruption))
    {
        Corruption = corruption;
    }

    /// <summary>The line that stops the writer.</summary>
    public AuditCorruptLine Corruption { get; }

    private static string Describe(AuditCorruptLine c) =>
        $"the audit log cannot be appended to: {c.File} line {c.Line} is a complete line (it ends with a newline) but {c.Reason}. " +
        "A crash leaves at most a last line without its newline, so this line was changed or damaged after it was written; " +
        "nothing was appended. Run 'signet log repair' (with the --home of this log): it moves the line aside into " +
        $"{Path.GetFileName(c.RepairPath)} (kept, not deleted), records the repair in the log as a receipt signed with your key " +
        "(tool signet.log.repair, naming the file, line, length and SHA-256 of the moved bytes), and appends continue after it.";
}

/// <summary>A corrupt last line that <see cref="AuditLog.RepairAsync"/> moved aside.</summary>
/// <param name="File">The day file (full path).</param>
/// <param name="Line">One-based line number it had.</param>
/// <param name="Offset">Byte offset it started at (the day file is now cut back to it).</param>
/// <param name="Length">Bytes moved.</param>
/// <param name="Sha256">SHA-256 of the moved bytes, <c>sha256:</c> + 64 lowercase hex.</param>
/// <param name="SavedAs">The <c>.corrupt</c> file that holds them.</param>
/// <param name="Reason">Why the line could not be continued from.</param>
public sealed record AuditRepairedLine(string File, long Line, long Offset, long Length, string Sha256, string SavedAs, string Reason);

/// <summary>One corrupt line moved aside and the record of that move appended to the log.</summary>
/// <param name="Line">What was moved, and where to.</param>
/// <param name="Record">Where the record of the repair went in the chain.</param>
public sealed record AuditRepair(AuditRepairedLine Line, AuditAppendResult Record);

/// <summary>What <see cref="AuditLog.RepairAsync"/> did.</summary>
public sealed record AuditRepairResult
{
    /// <summary>Corrupt lines moved aside, each with the record of the repair appended to the log (in the same order).</summary>
    public IReadOnlyList<AuditRepair> Repaired { get; init; } = [];

    /// <summary>Torn tails (lines without a newline) moved aside as any writer does on open.</summary>
    public IReadOnlyList<AuditTornTail> TornTails { get; init; } = [];

    /// <summary>True when there was nothing to repair.</summary>
    public bool NothingToRepair => Repaired.Count == 0;
}
