namespace Signet.Audit;

/// <summary>A line the query could not read as a record (verification reports it as a break).</summary>
/// <param name="File">The day file.</param>
/// <param name="Line">One-based line number.</param>
/// <param name="Reason">Why.</param>
public sealed record AuditSkippedLine(string File, long Line, string Reason);
