namespace Signet.Audit;

/// <summary>The first place where the chain does not hold.</summary>
/// <param name="Kind">What kind of damage it is.</param>
/// <param name="File">The day file (full path).</param>
/// <param name="Line">One-based line number in that file.</param>
/// <param name="ExpectedHash">The hash the chain required here (the previous record_hash, or the recomputed hash).</param>
/// <param name="ActualHash">The hash the line holds.</param>
/// <param name="Message">A sentence for people.</param>
public sealed record AuditBreak(AuditBreakKind Kind, string File, long Line, string? ExpectedHash, string? ActualHash, string Message);
