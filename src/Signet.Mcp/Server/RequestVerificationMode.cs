namespace Signet.Mcp.Server;

/// <summary>What the verification filter does with a call whose receipt is missing or invalid.</summary>
public enum RequestVerificationMode
{
    /// <summary>Reject it: the tool does not run and the client gets a tool error naming the reason.</summary>
    Require,

    /// <summary>Log it and let the tool run.</summary>
    Observe,
}
