using Signet.Bridge.Hosting;
using Signet.Cli.Proxy;

namespace Signet.Cli.Proxy;

/// <summary>How <see cref="StdioProxy"/> launches the tool server and treats the traffic between it and the client.</summary>
internal sealed record StdioProxyOptions
{
    /// <summary>The tool server's executable (looked up on PATH; on Windows run through <c>cmd.exe /c</c>).</summary>
    public required string Command { get; init; }

    /// <summary>The tool server's arguments, passed as they are (no shell).</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The child's working directory (default: ours).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The child's environment: ours, minus Signet's own variables (see <see cref="ChildEnvironment"/>), plus these.</summary>
    public IReadOnlyDictionary<string, string?>? EnvironmentVariables { get; init; }

    /// <summary>How long the child gets to exit after its stdin is closed before its process tree is killed.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Pass SIGINT, SIGTERM and SIGHUP received by this process on to the child (set by the <c>signet proxy</c> command).</summary>
    public bool ForwardSignals { get; init; }

    /// <summary>The traffic rules shared with the in-memory engine.</summary>
    public LineProxyOptions Traffic { get; init; } = new();

    /// <summary>The child as <see cref="ChildProcess"/> starts it: stderr inherited, so the client shows the server's diagnostics.</summary>
    public ChildProcessOptions Child => new()
    {
        Command = Command,
        Arguments = Arguments,
        WorkingDirectory = WorkingDirectory,
        EnvironmentVariables = EnvironmentVariables,
        ShutdownTimeout = ShutdownTimeout,
        ForwardSignals = ForwardSignals,
        StandardError = ChildStandardError.Inherit,
        CommandSource = "the command after '--'",
    };
}
