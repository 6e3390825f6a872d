namespace Signet.Audit;

/// <summary>
/// One tool call as the log tells it: its request receipt with the response receipt and co-signature that belong to
/// it (any of them may be missing). Holds the fields a listing shows, not the receipts.
/// </summary>
public sealed record AuditCall
{
    /// <summary>The request receipt's id (or, for a response or co-signature without its request, that record's id).</summary>
    public string? ReceiptId { get; init; }

    /// <summary>When the call was requested (the request receipt's <c>ts</c>, else the response's <c>ts_request</c>).</summary>
    public string? RequestTimestamp { get; init; }

    /// <summary>When the response was signed (<c>ts_response</c>), when there is a response receipt.</summary>
    public string? ResponseTimestamp { get; init; }

    /// <summary>The tool.</summary>
    public string? Tool { get; init; }

    /// <summary>The agent's signer name.</summary>
    public string? SignerName { get; init; }

    /// <summary>The tool server (<c>action.target</c>).</summary>
    public string? Target { get; init; }

    /// <summary>The signed outcome status (<c>executed</c>, <c>failed</c>, …) of the response, else of the co-signature; null when neither states one.</summary>
    public string? Outcome { get; init; }

    /// <summary>The request receipt (v1/v4), when the log holds it.</summary>
    public AuditRecordRef? Request { get; init; }

    /// <summary>The response receipt (v2), when the log holds one paired with the request.</summary>
    public AuditRecordRef? Response { get; init; }

    /// <summary>The server's co-signature (v3), when the log holds one.</summary>
    public AuditRecordRef? CoSignature { get; init; }

    /// <summary>A record that is not part of a call (another receipt version, a policy record).</summary>
    public AuditRecordRef? Other { get; init; }
}
