namespace Signet.Audit;

/// <summary>One corrupt line moved aside and the record of that move appended to the log.</summary>
/// <param name="Line">What was moved, and where to.</param>
/// <param name="Record">Where the record of the repair went in the chain.</param>
public sealed record AuditRepair(AuditRepairedLine Line, AuditAppendResult Record);
