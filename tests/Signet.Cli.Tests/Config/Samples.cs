using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Cli.Config;

namespace Signet.Cli.Tests.Config;

/// <summary>The realistic client configs under TestData, and helpers to read what a rewrite produced.</summary>
internal static class Samples
{
    public const string Signet = "/opt/signet/bin/signet";

    public static readonly SignetLauncher Launcher = new(Signet);

    public static readonly McpWrapOptions Options = new() { Launcher = Launcher };

    public static TheoryData<string, McpClientApp> All() => new()
    {
        { "claude_desktop_config.json", McpClientApp.ClaudeDesktop },
        { "mcp.json", McpClientApp.ClaudeCode },
        { "claude.json", McpClientApp.ClaudeCode },
        { "cursor_mcp.json", McpClientApp.Cursor },
        { "vscode_mcp.json", McpClientApp.VsCode },
        { "gemini_settings.json", McpClientApp.GeminiCli },
    };

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Config", "TestData", name));

    public static string Text(byte[] utf8) => Encoding.UTF8.GetString(utf8);

    /// <summary>Parses JSON or JSONC the way the clients do.</summary>
    public static JsonNode Parse(byte[] utf8) => JsonNode.Parse(utf8, documentOptions: new JsonDocumentOptions
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    })!;

    public static string[] Args(JsonNode entry) => entry["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();
}
