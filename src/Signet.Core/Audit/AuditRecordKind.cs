namespace Signet.Audit;

/// <summary>What a record is in the story of one tool call.</summary>
public enum AuditRecordKind
{
    /// <summary>A request receipt (v1, or v4 with a delegation): signed before the call was forwarded.</summary>
    Request,

    /// <summary>A response receipt (v2): the same action with the hash and outcome of the response.</summary>
    Response,

    /// <summary>A server's co-signature (v3) of the agent's request receipt and the response.</summary>
    CoSignature,

    /// <summary>Anything else (a receipt of another version, a policy record).</summary>
    Other,
}
