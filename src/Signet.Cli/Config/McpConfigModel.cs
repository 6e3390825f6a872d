namespace Signet.Cli.Config;

/// <summary>What <c>wrap</c> writes besides the signet command: proxy options and which servers to touch.</summary>
internal sealed record McpWrapOptions
{
    /// <summary>The command (and its leading arguments) that starts signet.</summary>
    public required SignetLauncher Launcher { get; init; }

    /// <summary>
    /// The signer name written as the proxy's <c>--name</c>; null lets the proxy sign as the key's name. The target is
    /// always the server: <c>--target mcp://&lt;entry name&gt;</c>, unless <see cref="ProxyOptions"/> holds a <c>--target</c>.
    /// </summary>
    public string? SignerName { get; init; }

    /// <summary>Proxy options written after the signer and target, such as <c>--key K</c> or <c>--home DIR</c>.</summary>
    public IReadOnlyList<string> ProxyOptions { get; init; } = [];

    /// <summary>
    /// A passphrase written as <c>SIGNET_PASSPHRASE</c> into the <c>env</c> of each server this rewrite wraps (with
    /// <see cref="McpConfigRewriter.AddedVariable"/> saying so, so that unwrapping removes it); null writes none.
    /// </summary>
    public string? Passphrase { get; init; }

    /// <summary>The server names to wrap; null wraps every server.</summary>
    public IReadOnlySet<string>? Servers { get; init; }
}

/// <summary>What a rewrite did to one server.</summary>
internal enum McpServerAction
{
    /// <summary>The server now runs through <c>signet proxy</c>.</summary>
    Wrapped,

    /// <summary>The server already ran through <c>signet proxy</c>; nothing changed.</summary>
    AlreadyWrapped,

    /// <summary>The server ran through <c>signet proxy</c> in the form an earlier version wrote; it now has the current form.</summary>
    Updated,

    /// <summary>The server's original entry was restored.</summary>
    Unwrapped,

    /// <summary>The server did not run through <c>signet proxy</c>; nothing changed.</summary>
    NotWrapped,

    /// <summary>The server was not among the ones asked for.</summary>
    NotSelected,

    /// <summary>The entry has a shape signet cannot rewrite (the detail says why); nothing changed.</summary>
    Unsupported,
}

/// <summary>Whether a server in a config runs through <c>signet proxy</c>.</summary>
internal enum McpServerState
{
    /// <summary>A stdio or URL server that does not run through signet.</summary>
    NotWrapped,

    /// <summary>A server that runs through <c>signet proxy</c>.</summary>
    Wrapped,

    /// <summary>An entry signet cannot rewrite.</summary>
    Unsupported,
}

/// <summary>One server of a config: where it is, its name, its state and a one-line description.</summary>
/// <param name="Location">The object that holds it, such as <c>mcpServers</c> or <c>projects["/src/app"].mcpServers</c>.</param>
/// <param name="Name">The server's key.</param>
/// <param name="State">Whether it runs through signet.</param>
/// <param name="Summary">The command or URL it runs (the original one for a wrapped server), or why it is unsupported.</param>
internal sealed record McpServerInfo(string Location, string Name, McpServerState State, string Summary);

/// <summary>The outcome of a rewrite for one server.</summary>
/// <param name="Location">The object that holds it.</param>
/// <param name="Name">The server's key.</param>
/// <param name="Action">What was done.</param>
/// <param name="Detail">Why, for an unsupported entry; else null.</param>
internal sealed record McpServerResult(string Location, string Name, McpServerAction Action, string? Detail = null)
{
    /// <summary>The string variables of the entry's <c>env</c> block as the file held them before the rewrite.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The entry's <c>args</c> as the file held them before the rewrite (empty when it had none).</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];
}

/// <summary>A config before and after a rewrite, and what happened to each server.</summary>
/// <param name="Original">The file's bytes as read.</param>
/// <param name="Result">The bytes to write (the same as <paramref name="Original"/> when nothing changed).</param>
/// <param name="Servers">One result per server, in file order.</param>
internal sealed record McpConfigRewrite(byte[] Original, byte[] Result, IReadOnlyList<McpServerResult> Servers)
{
    /// <summary>True when the result differs from the original.</summary>
    public bool Changed => !Original.AsSpan().SequenceEqual(Result);
}
