namespace Signet.Bridge.Hosting;

/// <summary>Where a child's stderr goes.</summary>
internal enum ChildStandardError
{
    /// <summary>Straight to our own stderr (the stdio proxy: the MCP client shows the server's diagnostics).</summary>
    Inherit,

    /// <summary>Read line by line into the log at Debug (the bridge: many children, one log).</summary>
    Log,
}
