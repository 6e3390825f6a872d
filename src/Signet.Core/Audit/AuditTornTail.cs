namespace Signet.Audit;

/// <summary>A torn (partial) last line found on open or before an append, moved aside for forensics.</summary>
/// <param name="File">The day file it was cut from.</param>
/// <param name="Line">The one-based line number it started on.</param>
/// <param name="Offset">The byte offset it started at.</param>
/// <param name="Length">Its length in bytes.</param>
/// <param name="SavedAs">The file that now holds the bytes (<c>&lt;day file&gt;.&lt;offset&gt;.torn</c>).</param>
/// <param name="Reason">Why it was not a record (no newline, or the parse error).</param>
public sealed record AuditTornTail(string File, long Line, long Offset, long Length, string SavedAs, string Reason);
