namespace Signet.Audit;

/// <summary>When an append counts as done.</summary>
public enum AuditDurability
{
    /// <summary>The append completes only after the record is fsynced; concurrent appends share one fsync (group commit).</summary>
    Durable,

    /// <summary>The append completes once the record is written to the OS; fsync runs on a short timer and on close.</summary>
    Fast,
}
