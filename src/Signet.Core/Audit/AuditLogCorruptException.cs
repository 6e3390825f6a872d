namespace Signet.Audit;

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

