using System.Text.Json.Nodes;

namespace Signet.Audit;

/// <summary>One record read from the log.</summary>
/// <param name="File">The day file (full path).</param>
/// <param name="Line">One-based line number.</param>
/// <param name="Receipt">The receipt as stored.</param>
/// <param name="PrevHash">The record's <c>prev_hash</c>.</param>
/// <param name="RecordHash">The record's <c>record_hash</c> (as stored; <see cref="AuditVerifier"/> checks it).</param>
public sealed record AuditEntry(string File, long Line, JsonObject Receipt, string PrevHash, string RecordHash)
{
    /// <summary>The receipt's timestamp text, by version.</summary>
    public string? Timestamp => ReceiptFields.Timestamp(Receipt);

    /// <summary>The tool name.</summary>
    public string? Tool => ReceiptFields.Tool(Receipt);

    /// <summary>The signer's name (the agent's for v3).</summary>
    public string? SignerName => ReceiptFields.SignerName(Receipt);

    /// <summary>The receipt version, when it has an integer <c>v</c>.</summary>
    public int? Version => ReceiptFields.Version(Receipt);

    /// <summary>The receipt id.</summary>
    public string? ReceiptId => ReceiptFields.Id(Receipt);

    /// <summary>What the record is in its call: the request (v1, v4), the response (v2), the server's co-signature (v3).</summary>
    public AuditRecordKind Kind => CallFields.Kind(Receipt);

    /// <summary>When the call was requested: v1/v4 <c>ts</c>, v2 <c>ts_request</c>, v3 the agent receipt's <c>ts</c>.</summary>
    public string? RequestTimestamp => CallFields.RequestTimestamp(Receipt);

    /// <summary>The signed outcome status of a response (v2) or co-signature (v3): <c>executed</c>, <c>failed</c>, …; else null.</summary>
    public string? Outcome => CallFields.Outcome(Receipt);

    /// <summary>The tool server the call went to (<c>action.target</c>; v3: the agent receipt's).</summary>
    public string? Target => CallFields.Target(Receipt);

    /// <summary>
    /// The id of the request receipt of the call this record belongs to: its own id for a request; for a v2 response
    /// the request it was paired with (see <see cref="AuditQuery.ReadCalls"/>), or null when none was found; for a v3
    /// co-signature the id of the agent receipt it embeds.
    /// </summary>
    public string? CallReceiptId { get; init; }
}
