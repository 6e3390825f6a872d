namespace Signet.Bridge;

/// <summary>One tool server behind the bridge: a stdio command or a remote Streamable HTTP URL.</summary>
public sealed class BridgeBackendOptions
{
    /// <summary>The name, used in logs and in the default path <c>/mcp/&lt;name&gt;</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>The URL path this backend is served at (default <c>/mcp/&lt;name&gt;</c>).</summary>
    public string? Path { get; set; }

    /// <summary>The stdio server's executable (exclusive with <see cref="Url"/>).</summary>
    public string? Command { get; set; }

    /// <summary>The stdio server's arguments.</summary>
    public IList<string> Args { get; set; } = new List<string>();

    /// <summary>Extra environment variables for the stdio server.</summary>
    public IDictionary<string, string> Env { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The stdio server's working directory (default: the bridge's).</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>A remote Streamable HTTP MCP endpoint to forward to (exclusive with <see cref="Command"/>).</summary>
    public string? Url { get; set; }

    /// <summary>The bearer token sent to a remote <see cref="Url"/> backend, if it needs one.</summary>
    public string? UrlBearerToken { get; set; }
}
