namespace Signet.Audit;

/// <summary>Options for <see cref="AuditLog.Open"/>.</summary>
public sealed record AuditLogOptions
{
    /// <summary>Durable (the default) or fast.</summary>
    public AuditDurability Durability { get; init; } = AuditDurability.Durable;

    /// <summary>The clock that picks the day file (UTC date of the append).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How often records written without an fsync (fast mode; deferred appends in durable mode) are fsynced at the latest (default 100 ms).</summary>
    public TimeSpan FastFlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Whether the log keeps its Merkle tree (<see cref="AuditLog.Tree"/>, tiles in <c>audit/tile/</c>) current
    /// (default true). The tree is caught up on open, on the flush timer and on close, never on an append's path.
    /// </summary>
    public bool Tree { get; init; } = true;

    /// <summary>The most records one write and fsync may carry (default 4096).</summary>
    public int MaxBatchSize { get; init; } = 4096;
}

