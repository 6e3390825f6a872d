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
