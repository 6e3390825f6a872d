namespace Signet.Transparency;

/// <summary>Options for <see cref="AuditTree.Open"/>.</summary>
public sealed record AuditTreeOptions
{
    /// <summary>How many full tiles are kept in memory for proofs (default 64, 512 KiB).</summary>
    public int TileCacheSize { get; init; } = 64;
}
