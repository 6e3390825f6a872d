namespace Signet.Bridge.Hosting;

/// <summary>How <see cref="ChildProcess"/> launches a tool server and ends it.</summary>
internal sealed record ChildProcessOptions
{
    /// <summary>The executable (looked up on PATH; on Windows run through <c>cmd.exe /c</c>, which finds <c>npx.cmd</c>).</summary>
    public required string Command { get; init; }

    /// <summary>The arguments, passed as they are (no shell on POSIX; escaped for cmd.exe on Windows).</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The child's working directory (default: ours).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Set on top of the filtered environment (see <see cref="ChildEnvironment"/>); a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?>? EnvironmentVariables { get; init; }

    /// <summary>How long the child gets to exit after its stdin is closed before its process tree is killed.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Pass SIGINT, SIGTERM and SIGHUP received by this process on to the child, instead of exiting on them.</summary>
    public bool ForwardSignals { get; init; }

    /// <summary>Inherit the child's stderr or log its lines.</summary>
    public ChildStandardError StandardError { get; init; } = ChildStandardError.Inherit;

    /// <summary>What the child is called in messages and logs (the bridge names its backend).</summary>
    public string Label { get; init; } = "the tool server";

    /// <summary>Where the command was given, for the hint when it cannot start.</summary>
    public string CommandSource { get; init; } = "the command";
}
