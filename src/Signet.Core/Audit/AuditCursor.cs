namespace Signet.Audit;

/// <summary>Where the chain's tail is: the day file, the offset just past its last whole line, and the lines up to there.</summary>
internal readonly record struct AuditCursor(string? Path, long End, long Lines);
