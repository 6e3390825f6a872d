namespace Signet.Cli.Config;

/// <summary>The MCP clients whose config files <c>signet wrap</c> understands.</summary>
internal enum McpClientApp
{
    /// <summary>Claude Desktop, <c>claude_desktop_config.json</c> (<c>mcpServers</c>, stdio only).</summary>
    ClaudeDesktop,

    /// <summary>Claude Code, <c>.mcp.json</c> and <c>~/.claude.json</c> (<c>mcpServers</c>, also under <c>projects.*</c>).</summary>
    ClaudeCode,

    /// <summary>Cursor, <c>~/.cursor/mcp.json</c> and <c>.cursor/mcp.json</c> (<c>mcpServers</c>).</summary>
    Cursor,

    /// <summary>VS Code, <c>.vscode/mcp.json</c> and the user profile <c>mcp.json</c> (<c>servers</c>, JSONC).</summary>
    VsCode,

    /// <summary>Gemini CLI, <c>settings.json</c> (<c>mcpServers</c>, remote servers as <c>httpUrl</c> or <c>url</c>).</summary>
    GeminiCli,
}

/// <summary>Names of clients on the command line, and telling a config's client from its path and content.</summary>
internal static class McpClientApps
{
    /// <summary>The command-line names, in the order help lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["claude-desktop", "claude-code", "cursor", "vscode", "gemini"];

    /// <summary>The command-line name of a client.</summary>
    public static string Name(McpClientApp client) => client switch
    {
        McpClientApp.ClaudeDesktop => "claude-desktop",
        McpClientApp.ClaudeCode => "claude-code",
        McpClientApp.Cursor => "cursor",
        McpClientApp.VsCode => "vscode",
        McpClientApp.GeminiCli => "gemini",
        _ => throw new ArgumentOutOfRangeException(nameof(client)),
    };

    /// <summary>Parses a command-line name (case-insensitive); null when it names no client.</summary>
    public static McpClientApp? Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "claude-desktop" or "claudedesktop" or "claude" => McpClientApp.ClaudeDesktop,
        "claude-code" or "claudecode" => McpClientApp.ClaudeCode,
        "cursor" => McpClientApp.Cursor,
        "vscode" or "vs-code" or "code" => McpClientApp.VsCode,
        "gemini" or "gemini-cli" => McpClientApp.GeminiCli,
        _ => null,
    };

    /// <summary>The key of the object that holds the servers: <c>servers</c> for VS Code, else <c>mcpServers</c>.</summary>
    public static string ServersKey(McpClientApp client) => client == McpClientApp.VsCode ? "servers" : "mcpServers";

    /// <summary>
    /// Tells the client from the file name and, failing that, from the content. A file whose only sign is an
    /// <c>mcpServers</c> object is read as Claude Code's portable <c>.mcp.json</c>, which Cursor and VS Code also read.
    /// </summary>
    public static McpClientApp Detect(string path, byte[] utf8)
    {
        var full = Path.GetFullPath(path).Replace('\\', '/');
        var name = Path.GetFileName(full);
        var parent = Path.GetFileName(Path.GetDirectoryName(full) ?? "");
        if (name.Equals("claude_desktop_config.json", StringComparison.OrdinalIgnoreCase))
        {
            return McpClientApp.ClaudeDesktop;
        }
        if (name.Equals(".claude.json", StringComparison.OrdinalIgnoreCase) || name.Equals(".mcp.json", StringComparison.OrdinalIgnoreCase))
        {
            return McpClientApp.ClaudeCode;
        }
        if (parent.Equals(".cursor", StringComparison.OrdinalIgnoreCase))
        {
            return McpClientApp.Cursor;
        }
        if (parent.Equals(".gemini", StringComparison.OrdinalIgnoreCase))
        {
            return McpClientApp.GeminiCli;
        }
        if (parent.Equals(".vscode", StringComparison.OrdinalIgnoreCase))
        {
            return McpClientApp.VsCode;
        }

        var root = JsonSpanTree.Parse(utf8);
        var hasServers = root["servers"] is { IsObject: true };
        var hasMcpServers = root["mcpServers"] is { IsObject: true };
        if (hasServers && !hasMcpServers)
        {
            return McpClientApp.VsCode;
        }
        if (root["projects"] is { IsObject: true })
        {
            return McpClientApp.ClaudeCode;
        }
        if (name.Equals("settings.json", StringComparison.OrdinalIgnoreCase))
        {
            return McpClientApp.GeminiCli;
        }
        return McpClientApp.ClaudeCode;
    }
}
