namespace Signet.Cli.Proxy;

/// <summary>Where <see cref="HttpBackendProxy"/> forwards to.</summary>
internal sealed record HttpBackendProxyOptions
{
    /// <summary>The remote MCP server's Streamable HTTP endpoint, e.g. <c>https://tools.example/mcp</c>.</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>Extra HTTP headers sent with every request (e.g. <c>Authorization</c>).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>The traffic rules shared with the stdio proxy.</summary>
    public LineProxyOptions Traffic { get; init; } = new();
}
