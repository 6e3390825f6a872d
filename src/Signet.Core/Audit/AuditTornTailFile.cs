namespace Signet.Audit;

/// <summary>A moved-aside torn tail kept in the audit directory for forensics.</summary>
/// <param name="Path">The <c>.torn</c> file.</param>
/// <param name="Length">Its size in bytes.</param>
public sealed record AuditTornTailFile(string Path, long Length);
