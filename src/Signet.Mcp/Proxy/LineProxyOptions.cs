namespace Signet.Mcp.Proxy;

/// <summary>How the proxy treats the JSON-RPC lines that pass through it.</summary>
public sealed record LineProxyOptions
{
    /// <summary>The default <see cref="MaxLineBytes"/>: 64 MiB.</summary>
    public const int DefaultMaxLineBytes = 64 * 1024 * 1024;

    /// <summary>
    /// The longest message line accepted from the client, terminator excluded. A longer client line is not forwarded
    /// (it could be an unsigned <c>tools/call</c>); the client gets a JSON-RPC error with the line's id when a complete one is in its first 4096 bytes, else a null id. A longer server
    /// line is forwarded unchanged without being inspected.
    /// </summary>
    public int MaxLineBytes { get; init; } = DefaultMaxLineBytes;

    /// <summary>Forward a call whose receipt could not be made (and deliver a refused response), with one critical <c>FAIL-OPEN</c> log line per call, instead of answering with an error.</summary>
    public bool FailOpen { get; init; }

    /// <summary>The session id handed to the recorder (null for a stdio proxy: one client, one session).</summary>
    public string? SessionId { get; init; }
}
