namespace Signet.Audit;

/// <summary>Where an appended record landed.</summary>
/// <param name="RecordHash">The record's <c>record_hash</c>.</param>
/// <param name="PrevHash">The <c>prev_hash</c> it links to.</param>
/// <param name="File">The day file's full path.</param>
/// <param name="Line">The one-based line number in that file.</param>
public sealed record AuditAppendResult(string RecordHash, string PrevHash, string File, long Line);
