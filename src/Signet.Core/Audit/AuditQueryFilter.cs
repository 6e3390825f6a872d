namespace Signet.Audit;

/// <summary>
/// Which records <see cref="AuditQuery.Read"/> returns (or calls <see cref="AuditQuery.ReadCalls"/> returns). Every set
/// criterion must match.
/// </summary>
public sealed record AuditQueryFilter
{
    /// <summary>Only receipts whose timestamp (v1 <c>ts</c>, v2 <c>ts_request</c>, v3 <c>ts_response</c>) is at or after this.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only receipts whose timestamp is before this.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Only receipts for this tool (exact match; v3: the agent receipt's tool).</summary>
    public string? Tool { get; init; }

    /// <summary>Only receipts signed by this signer: a name or an <c>ed25519:</c> public key (agent or v3 server).</summary>
    public string? Signer { get; init; }
}
