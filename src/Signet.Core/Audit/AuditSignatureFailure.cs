namespace Signet.Audit;

/// <summary>A record whose receipt signature did not verify.</summary>
/// <param name="File">The day file.</param>
/// <param name="Line">One-based line number.</param>
/// <param name="ReceiptId">The receipt's <c>id</c>, if it has one.</param>
/// <param name="Reason">Why it failed.</param>
public sealed record AuditSignatureFailure(string File, long Line, string? ReceiptId, string Reason);
