namespace Signet.Cli.Config;

/// <summary>
/// How a client config starts signet: a command plus the arguments that come before <c>proxy</c>
/// (none for the apphost or the installed tool; the absolute <c>signet.dll</c> path when run by <c>dotnet</c>).
/// </summary>
internal sealed record SignetLauncher
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
    /// Chooses the command that starts signet now: an explicit path (a <c>.dll</c> is run by the dotnet host); else,
    /// when the running signet is an installed .NET tool, that tool's shim (never the versioned <c>.store</c> path it
    /// runs from); else <c>signet</c> installed as a .NET tool on PATH; else the running apphost, else the running
    /// dotnet host with the absolute path of <c>signet.dll</c>.
    /// </summary>
    /// <param name="explicitCommand">The <c>--signet-command</c> value, or null.</param>
    /// <param name="pathVariable">The PATH environment variable.</param>
    /// <param name="processPath">The running executable (<see cref="Environment.ProcessPath"/>).</param>
    /// <param name="entryAssemblyPath">The path of the running signet assembly (signet.dll).</param>
    public static SignetLauncher Resolve(string? explicitCommand, string? pathVariable, string? processPath, string? entryAssemblyPath) =>
        Resolve(explicitCommand, pathVariable, processPath, entryAssemblyPath, refuseBuildOutput: false);

    /// <summary>
    /// Like <see cref="Resolve(string?, string?, string?, string?)"/>, for a command written into a client config, which
    /// must survive upgrades and rebuilds: a running build output (<c>bin</c> beside a project file, as with
    /// <c>dotnet run</c>) is refused, with how to install the tool, unless <paramref name="explicitCommand"/> names it.
    /// </summary>
    /// <param name="explicitCommand">The <c>--signet-command</c> value, or null.</param>
    /// <param name="pathVariable">The PATH environment variable.</param>
    /// <param name="processPath">The running executable (<see cref="Environment.ProcessPath"/>).</param>
    /// <param name="entryAssemblyPath">The path of the running signet assembly (signet.dll).</param>
    public static SignetLauncher ResolveForConfig(string? explicitCommand, string? pathVariable, string? processPath, string? entryAssemblyPath) =>
        Resolve(explicitCommand, pathVariable, processPath, entryAssemblyPath, refuseBuildOutput: true);

    private static SignetLauncher Resolve(string? explicitCommand, string? pathVariable, string? processPath, string? entryAssemblyPath, bool refuseBuildOutput)
    {
        if (!string.IsNullOrWhiteSpace(explicitCommand))
        {
            return FromExplicit(explicitCommand, pathVariable, processPath);
        }

        // The Native AOT tool runs from .store/signet.cli/<version>/…/signet, the framework-dependent one from a
        // signet.dll there: the shim in the tool folder that holds .store is what the user installed.
        foreach (var running in (string?[])[processPath, entryAssemblyPath])
        {
            if (running is not null && ToolShimFor(running) is { } shim)
            {
                return new SignetLauncher(shim);
            }
        }

        if (FindOnPath("signet", pathVariable) is { } onPath && IsInstalledTool(onPath))
        {
            return new SignetLauncher(onPath);
        }

        var build = processPath is not null && IsSignetName(processPath) ? processPath
            : processPath is not null && IsDotnetHost(processPath) && entryAssemblyPath is not null && IsSignetDll(entryAssemblyPath) ? entryAssemblyPath
            : null;
        if (refuseBuildOutput && build is not null && BuildOutputProject(build) is { } project)
        {
            throw new McpConfigException(
                $"signet is running from the build output of {project}, which the next build replaces, so a client config must not point at it. " +
                "Install the tool first: bash pack.sh && dotnet tool install -g Signet.Cli --add-source out/tool " +
                "(then run wrap again with the installed signet), or pass --signet-command /absolute/path/to/signet to write that path anyway");
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
            "cannot tell which command starts signet: install it with 'bash pack.sh && dotnet tool install -g Signet.Cli --add-source out/tool', " +
            "or pass --signet-command /absolute/path/to/signet");
    }

    /// <summary>
    /// The shim of the .NET tool that <paramref name="path"/> belongs to: walks up from the <c>.store</c> folder that
    /// holds it to the tool folder (<c>~/.dotnet/tools</c>, or a <c>--tool-path</c>) and returns the <c>signet</c> or
    /// <c>signet.exe</c> there; null when the path is not inside a tool's store.
    /// </summary>
    internal static string? ToolShimFor(string path)
    {
        var full = Path.GetFullPath(path);
        for (var directory = Path.GetDirectoryName(full); directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (!Path.GetFileName(directory).Equals(".store", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var tools = Path.GetDirectoryName(directory);
            if (tools is null)
            {
                return null;
            }
            foreach (var name in OperatingSystem.IsWindows() ? new[] { "signet.exe", "signet" } : ["signet"])
            {
                var shim = Path.Combine(tools, name);
                if (File.Exists(shim))
                {
                    return shim;
                }
            }
            return null;
        }
        return null;
    }

    // dotnet build and dotnet run write to <project>/bin/<configuration>/<framework>/: a folder named bin beside a
    // project file. Returns that project file, or null.
    private static string? BuildOutputProject(string path)
    {
        for (var directory = Path.GetDirectoryName(Path.GetFullPath(path)); directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (!Path.GetFileName(directory).Equals("bin", StringComparison.OrdinalIgnoreCase) || Path.GetDirectoryName(directory) is not { } parent)
            {
                continue;
            }
            try
            {
                if (Directory.EnumerateFiles(parent, "*.csproj").FirstOrDefault() is { } project)
                {
                    return project;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return null;
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
    /// <see cref="Resolve(string?, string?, string?, string?)"/> writes; <paramref name="proxyIndex"/> is the index of <c>proxy</c> in the arguments.
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
