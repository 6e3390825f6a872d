namespace Signet.Cli.Proxy;

/// <summary>How the proxy treats the JSON-RPC lines that pass through it.</summary>
internal sealed record LineProxyOptions
{
    /// <summary>The default <see cref="MaxLineBytes"/>: 64 MiB.</summary>
    public const int DefaultMaxLineBytes = 64 * 1024 * 1024;

    /// <summary>
    /// The longest message line accepted from the client, terminator excluded. A longer client line is not forwarded
    /// (it could be an unsigned <c>tools/call</c>); the client gets a JSON-RPC error with the line's id when a complete one is in its first 4096 bytes, else a null id. A longer server
    /// line is forwarded unchanged without being inspected.
    /// </summary>
    public int MaxLineBytes { get; init; } = DefaultMaxLineBytes;

    /// <summary>The MCP session id signed into the receipts (null for a stdio proxy: one client, one session).</summary>
    public string? SessionId { get; init; }
}
