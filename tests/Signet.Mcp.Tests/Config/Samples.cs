using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Mcp.Config;

namespace Signet.Mcp.Tests.Config;

/// <summary>The realistic client configs under TestData, and helpers to read what a rewrite produced.</summary>
internal static class Samples
{
    public const string Signet = "/opt/signet/bin/signet";

    public static readonly SignetLauncher Launcher = new(Signet);

    public static readonly McpWrapOptions Options = new() { Launcher = Launcher };

    public static TheoryData<string, McpClient> All() => new()
    {
        { "claude_desktop_config.json", McpClient.ClaudeDesktop },
        { "mcp.json", McpClient.ClaudeCode },
        { "claude.json", McpClient.ClaudeCode },
        { "cursor_mcp.json", McpClient.Cursor },
        { "vscode_mcp.json", McpClient.VsCode },
        { "gemini_settings.json", McpClient.GeminiCli },
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
