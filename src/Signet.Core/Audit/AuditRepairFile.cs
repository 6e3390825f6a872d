namespace Signet.Audit;

/// <summary>A corrupt line that <c>signet log repair</c> moved aside, kept as a <c>.corrupt</c> file.</summary>
/// <param name="Path">The <c>.corrupt</c> file.</param>
/// <param name="Length">Its size in bytes.</param>
public sealed record AuditRepairFile(string Path, long Length);
