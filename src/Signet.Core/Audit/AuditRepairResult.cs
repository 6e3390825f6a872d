namespace Signet.Audit;

/// <summary>What <see cref="AuditLog.RepairAsync"/> did.</summary>
public sealed record AuditRepairResult
{
    /// <summary>Corrupt lines moved aside, each with the record of the repair appended to the log (in the same order).</summary>
    public IReadOnlyList<AuditRepair> Repaired { get; init; } = [];

    /// <summary>Torn tails (lines without a newline) moved aside as any writer does on open.</summary>
    public IReadOnlyList<AuditTornTail> TornTails { get; init; } = [];

    /// <summary>True when there was nothing to repair.</summary>
    public bool NothingToRepair => Repaired.Count == 0;
}
