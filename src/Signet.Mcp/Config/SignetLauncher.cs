namespace Signet.Mcp.Config;

/// <summary>
/// How a client config starts signet: a command plus the arguments that come before <c>proxy</c>
/// (none for the apphost or the installed tool; the absolute <c>signet.dll</c> path when run by <c>dotnet</c>).
/// </summary>
public sealed record SignetLauncher
{
    /// <summary>Creates a launcher from the command and the arguments that precede <c>proxy</c>.</summary>
    public SignetLauncher(string command, IReadOnlyList<string>? prefixArguments = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        Command = command;
        PrefixArguments = prefixArguments ?? [];
    }

    /// <summary>The command written into the config (an absolute path).</summary>
    public string Command { get; }

    /// <summary>The arguments written before <c>proxy</c>.</summary>
    public IReadOnlyList<string> PrefixArguments { get; }

    /// <summary>
    /// Chooses the command a client can launch: an explicit path (a <c>.dll</c> is run by the dotnet host), else
    /// <c>signet</c> installed as a .NET tool on PATH, else the running apphost, else the running dotnet host with
    /// the absolute path of <c>signet.dll</c>.
    /// </summary>
    /// <param name="explicitCommand">The <c>--signet-command</c> value, or null.</param>
    /// <param name="pathVariable">The PATH environment variable.</param>
    /// <param name="processPath">The running executable (<see cref="Environment.ProcessPath"/>).</param>
    /// <param name="entryAssemblyPath">The path of the running signet assembly (signet.dll).</param>
    public static SignetLauncher Resolve(string? explicitCommand, string? pathVariable, string? processPath, string? entryAssemblyPath)
    {
        if (!string.IsNullOrWhiteSpace(explicitCommand))
        {
            return FromExplicit(explicitCommand, pathVariable, processPath);
        }

        if (FindOnPath("signet", pathVariable) is { } onPath && IsInstalledTool(onPath))
        {
            return new SignetLauncher(onPath);
        }

        if (processPath is not null && IsSignetName(processPath))
        {
            return new SignetLauncher(Path.GetFullPath(processPath));
        }

        if (processPath is not null && IsDotnetHost(processPath) && entryAssemblyPath is not null && IsSignetDll(entryAssemblyPath))
        {
            return new SignetLauncher(Path.GetFullPath(processPath), [Path.GetFullPath(entryAssemblyPath)]);
        }

        throw new McpConfigException(
            "cannot tell which command starts signet: install it with 'dotnet tool install -g Signet.Cli', or pass --signet-command /absolute/path/to/signet");
    }

    /// <summary>
    /// The <c>signet.dll</c> next to the running program, or null when there is none (a Native AOT build is a single
    /// executable). Used instead of <c>Assembly.Location</c>, which is empty in a single-file or Native AOT build.
    /// </summary>
    public static string? RunningSignetDll()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "signet.dll");
        return File.Exists(path) ? path : null;
    }

    /// <summary>
    /// True when <paramref name="command"/> and <paramref name="args"/> start a signet proxy in any of the forms
    /// <see cref="Resolve"/> writes; <paramref name="proxyIndex"/> is the index of <c>proxy</c> in the arguments.
    /// </summary>
    public static bool IsProxyInvocation(string command, IReadOnlyList<string> args, out int proxyIndex)
    {
        proxyIndex = -1;
        if (IsSignetName(command) || command.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && IsSignetDll(command))
        {
            proxyIndex = 0;
        }
        else if (IsDotnetHost(command) && args.Count > 0 && IsSignetDll(args[0]))
        {
            proxyIndex = 1;
        }
        return proxyIndex >= 0 && args.Count > proxyIndex && args[proxyIndex] == "proxy";
    }

    private static SignetLauncher FromExplicit(string command, string? pathVariable, string? processPath)
    {
        if (command.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            var host = processPath is not null && IsDotnetHost(processPath)
                ? Path.GetFullPath(processPath)
                : FindOnPath("dotnet", pathVariable) ?? "dotnet";
            return new SignetLauncher(host, [Path.GetFullPath(command)]);
        }
        if (Path.IsPathRooted(command) || command.Contains('/') || command.Contains('\\'))
        {
            return new SignetLauncher(Path.GetFullPath(command));
        }
        return new SignetLauncher(FindOnPath(command, pathVariable)
            ?? throw new McpConfigException($"--signet-command '{command}' is not on PATH; give an absolute path so the client can start it"));
    }

    private static string? FindOnPath(string name, string? pathVariable)
    {
        if (string.IsNullOrEmpty(pathVariable))
        {
            return null;
        }
        var names = OperatingSystem.IsWindows() ? new[] { name + ".exe", name + ".cmd", name } : [name];
        foreach (var directory in pathVariable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var candidate in names)
            {
                var path = Path.Combine(directory.Trim('"'), candidate);
                if (File.Exists(path))
                {
                    return Path.GetFullPath(path);
                }
            }
        }
        return null;
    }

    // A .NET tool shim sits beside a .store directory holding the package (global tools and --tool-path
    // installs alike). Another program called signet on PATH (the reference CLI, say) has no such store.
    private static bool IsInstalledTool(string path) =>
        Path.GetDirectoryName(path) is { } directory && Directory.Exists(Path.Combine(directory, ".store", "signet.cli"));

    private static bool IsSignetName(string path) => StemOf(path).Equals("signet", StringComparison.OrdinalIgnoreCase);

    private static bool IsDotnetHost(string path) => StemOf(path).Equals("dotnet", StringComparison.OrdinalIgnoreCase);

    private static bool IsSignetDll(string path) => Path.GetFileName(path.Replace('\\', '/')).Equals("signet.dll", StringComparison.OrdinalIgnoreCase);

    private static string StemOf(string path)
    {
        var name = Path.GetFileName(path.Replace('\\', '/'));
        foreach (var extension in (string[])[".exe", ".cmd", ".bat"])
        {
            if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                return name[..^extension.Length];
            }
        }
        return name;
    }
}
