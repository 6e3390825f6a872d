namespace Signet.Transparency;

/// <summary>One leaf of the tree: an audit record as it is in its day file.</summary>
/// <param name="Index">The leaf index (0-based, chain order across the day files).</param>
/// <param name="Path">The day file.</param>
/// <param name="LineNumber">The 1-based line number in that file.</param>
/// <param name="Line">The line's bytes without its newline: the entry the leaf hash is computed over.</param>
public sealed record AuditTreeEntry(long Index, string Path, long LineNumber, byte[] Line);
