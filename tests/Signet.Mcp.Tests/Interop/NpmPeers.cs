namespace Signet.Mcp.Tests.Interop;

/// <summary>
/// The pinned npm peers of the interop tests (tests/interop/package.json), installed by <c>bash test.sh</c>:
/// the node binaries, each third-party server's entry script and our TS SDK client script.
/// </summary>
/// <remarks>Missing peers fail the test with the command that installs them; interop tests never skip silently.</remarks>
internal static class NpmPeers
{
    private const string InstallHint = "run `bash test.sh` (it installs the npm peers)";

    /// <summary>The repository root (the directory holding Signet.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>tests/interop: package.json, package-lock.json, ts-client.mjs and node_modules.</summary>
    public static string InteropDirectory => Path.Combine(RepoRoot, "tests", "interop");

    /// <summary>tests/interop/node_modules; throws with the install command when it is missing.</summary>
    public static string NodeModules => RequireDirectory(Path.Combine(InteropDirectory, "node_modules"));

    /// <summary>The <c>node</c> on PATH (Node 20 or later), which runs the servers and the TS client.</summary>
    public static string Node { get; } = FindOnPath(OperatingSystem.IsWindows() ? "node.exe" : "node")
        ?? throw new InvalidOperationException("`node` is not on PATH; the interop tests need Node.js 20 or later and npm.");

    /// <summary>The Node 22 binary from the npm <c>node</c> package (the conformance runner needs Node 22).</summary>
    public static string Node22 => RequireFile(Path.Combine(NodeModules, "node", "bin", OperatingSystem.IsWindows() ? "node.exe" : "node"));

    /// <summary>@modelcontextprotocol/server-everything's entry script (argument: stdio, sse or streamableHttp).</summary>
    public static string ServerEverything => Package("@modelcontextprotocol/server-everything", "dist", "index.js");

    /// <summary>@modelcontextprotocol/server-filesystem's entry script (arguments: the allowed directories).</summary>
    public static string ServerFilesystem => Package("@modelcontextprotocol/server-filesystem", "dist", "index.js");

    /// <summary>@modelcontextprotocol/server-memory's entry script (environment: MEMORY_FILE_PATH).</summary>
    public static string ServerMemory => Package("@modelcontextprotocol/server-memory", "dist", "index.js");

    /// <summary>supergateway's entry script (stdio ⇄ SSE/Streamable HTTP gateway).</summary>
    public static string Supergateway => Package("supergateway", "dist", "index.js");

    /// <summary>The MCP conformance runner's entry script (run it with <see cref="Node22"/>).</summary>
    public static string Conformance => Package("@modelcontextprotocol/conformance", "dist", "index.js");

    /// <summary>tests/interop/ts-client.mjs: the official TS SDK client that runs a named scenario and prints JSON.</summary>
    public static string TsClient
    {
        get
        {
            // The script imports the SDK from node_modules, so it is only usable once the peers are installed.
            _ = Package("@modelcontextprotocol/sdk", "package.json");
            return RequireFile(Path.Combine(InteropDirectory, "ts-client.mjs"));
        }
    }

    private static string Package(string name, params string[] parts) =>
        RequireFile(Path.Combine([NodeModules, .. name.Split('/'), .. parts]));

    /// <summary>The directory, or an exception that names it and the command that installs the peers.</summary>
    internal static string RequireDirectory(string path) =>
        Directory.Exists(path) ? path : throw new InvalidOperationException($"The npm peers are not installed ({path} is missing): {InstallHint}.");

    private static string RequireFile(string path) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing; the npm peers are incomplete: {InstallHint}.");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Signet.sln above {AppContext.BaseDirectory}; run the tests from the repository.");
    }

    private static string? FindOnPath(string file)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, file);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
