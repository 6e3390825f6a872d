namespace Signet.Cli.Config;

/// <summary>A place where a client keeps its MCP config.</summary>
/// <param name="Path">The absolute file path.</param>
/// <param name="Client">The client that reads it.</param>
/// <param name="Scope">"user" for per-user files, "project" for files in the working directory.</param>
internal sealed record McpConfigLocation(string Path, McpClientApp Client, string Scope);

/// <summary>The operating systems whose config locations differ.</summary>
internal enum HostOs
{
    /// <summary>Linux and other Unix systems.</summary>
    Linux,

    /// <summary>macOS.</summary>
    MacOS,

    /// <summary>Windows.</summary>
    Windows,
}

/// <summary>The known config files of each client, for a given home and working directory.</summary>
internal static class McpConfigLocations
{
    /// <summary>The host's operating system.</summary>
    public static HostOs CurrentOs => OperatingSystem.IsWindows() ? HostOs.Windows : OperatingSystem.IsMacOS() ? HostOs.MacOS : HostOs.Linux;

    /// <summary>Every place a supported client may keep a config, whether or not the file exists.</summary>
    /// <param name="home">The user's home directory.</param>
    /// <param name="workingDirectory">The project directory for project-scoped files.</param>
    /// <param name="os">The operating system whose user-profile locations apply.</param>
    /// <param name="getEnvironmentVariable">Reads APPDATA (Windows) and XDG_CONFIG_HOME (Linux).</param>
    public static IReadOnlyList<McpConfigLocation> Candidates(string home, string workingDirectory, HostOs os, Func<string, string?> getEnvironmentVariable)
    {
        ArgumentNullException.ThrowIfNull(getEnvironmentVariable);
        var appData = os switch
        {
            HostOs.Windows => getEnvironmentVariable("APPDATA") is { Length: > 0 } roaming ? roaming : Path.Combine(home, "AppData", "Roaming"),
            HostOs.MacOS => Path.Combine(home, "Library", "Application Support"),
            _ => getEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(home, ".config"),
        };

        var list = new List<McpConfigLocation>
        {
            new(Path.Combine(appData, "Claude", "claude_desktop_config.json"), McpClientApp.ClaudeDesktop, "user"),
            new(Path.Combine(home, ".claude.json"), McpClientApp.ClaudeCode, "user"),
            new(Path.Combine(workingDirectory, ".mcp.json"), McpClientApp.ClaudeCode, "project"),
            new(Path.Combine(home, ".cursor", "mcp.json"), McpClientApp.Cursor, "user"),
            new(Path.Combine(workingDirectory, ".cursor", "mcp.json"), McpClientApp.Cursor, "project"),
            new(Path.Combine(appData, "Code", "User", "mcp.json"), McpClientApp.VsCode, "user"),
            new(Path.Combine(appData, "Code - Insiders", "User", "mcp.json"), McpClientApp.VsCode, "user"),
            new(Path.Combine(workingDirectory, ".vscode", "mcp.json"), McpClientApp.VsCode, "project"),
            new(Path.Combine(home, ".gemini", "settings.json"), McpClientApp.GeminiCli, "user"),
            new(Path.Combine(workingDirectory, ".gemini", "settings.json"), McpClientApp.GeminiCli, "project"),
        };
        // When the working directory is the home directory, the project files are the user files.
        return list.Select(l => l with { Path = System.IO.Path.GetFullPath(l.Path) })
            .DistinctBy(l => l.Path)
            .ToList();
    }

    /// <summary>The candidates that exist as files.</summary>
    public static IReadOnlyList<McpConfigLocation> Find(string home, string workingDirectory, HostOs os, Func<string, string?> getEnvironmentVariable) =>
        Candidates(home, workingDirectory, os, getEnvironmentVariable).Where(l => File.Exists(l.Path)).ToList();
}
