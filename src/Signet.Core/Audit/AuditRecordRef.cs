namespace Signet.Audit;

/// <summary>Where one record of a call is.</summary>
/// <param name="File">The day file (full path).</param>
/// <param name="Line">One-based line number.</param>
/// <param name="ReceiptId">The receipt's id.</param>
public sealed record AuditRecordRef(string File, long Line, string? ReceiptId);
