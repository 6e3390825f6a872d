namespace Signet.Mcp.Recording;

/// <summary>What a recorder does when a receipt cannot be signed or made durable.</summary>
public enum RecordingFailureMode
{
    /// <summary>Refuse: the call is not forwarded (or the response not delivered) and the caller gets an error naming the cause.</summary>
    FailClosed,

    /// <summary>Log the failure loudly and let the traffic through.</summary>
    FailOpen,
}
