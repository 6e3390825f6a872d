namespace Signet.Mcp.Recording;

/// <summary>Where in a call's life a recording problem happened.</summary>
public enum RecordingStage
{
    /// <summary>Signing the request receipt.</summary>
    SignRequest,

    /// <summary>Storing a receipt in the sink.</summary>
    Store,

    /// <summary>Signing the response receipt.</summary>
    SignResponse,

    /// <summary>Checking the server's co-signature.</summary>
    CoSignature,

    /// <summary>Too many calls awaiting responses: the oldest was dropped and its response will not be recorded.</summary>
    PendingOverflow,
}
