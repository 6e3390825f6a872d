namespace Signet.Mcp.Recording;

/// <summary>Which receipt of a call a <see cref="RecordedReceipt"/> is.</summary>
public enum RecordedReceiptKind
{
    /// <summary>The agent's v1 receipt for the request.</summary>
    Request,

    /// <summary>The agent's v2 receipt binding the request and its response.</summary>
    Response,

    /// <summary>The server's v3 co-signature, verified.</summary>
    CoSignature,
}
