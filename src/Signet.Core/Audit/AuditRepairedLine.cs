namespace Signet.Audit;

/// <summary>A corrupt last line that <see cref="AuditLog.RepairAsync"/> moved aside.</summary>
/// <param name="File">The day file (full path).</param>
/// <param name="Line">One-based line number it had.</param>
/// <param name="Offset">Byte offset it started at (the day file is now cut back to it).</param>
/// <param name="Length">Bytes moved.</param>
/// <param name="Sha256">SHA-256 of the moved bytes, <c>sha256:</c> + 64 lowercase hex.</param>
/// <param name="SavedAs">The <c>.corrupt</c> file that holds them.</param>
/// <param name="Reason">Why the line could not be continued from.</param>
public sealed record AuditRepairedLine(string File, long Line, long Offset, long Length, string Sha256, string SavedAs, string Reason);
