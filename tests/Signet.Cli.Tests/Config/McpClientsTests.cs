using Signet.Cli.Config;

namespace Signet.Cli.Tests.Config;

public sealed class McpClientsTests
{
    [Theory]
    [InlineData("/a/Claude/claude_desktop_config.json", "{}", McpClientApp.ClaudeDesktop)]
    [InlineData("/home/a/.claude.json", "{}", McpClientApp.ClaudeCode)]
    [InlineData("/src/app/.mcp.json", "{}", McpClientApp.ClaudeCode)]
    [InlineData("/home/a/.cursor/mcp.json", "{}", McpClientApp.Cursor)]
    [InlineData("/src/app/.vscode/mcp.json", "{}", McpClientApp.VsCode)]
    [InlineData("/home/a/.gemini/settings.json", "{}", McpClientApp.GeminiCli)]
    [InlineData("/home/a/.config/Code/User/mcp.json", "{\"servers\": {}}", McpClientApp.VsCode)]
    [InlineData("/tmp/copy.json", "{\"projects\": {}, \"mcpServers\": {}}", McpClientApp.ClaudeCode)]
    [InlineData("/tmp/settings.json", "{\"mcpServers\": {}}", McpClientApp.GeminiCli)]
    [InlineData("/tmp/any.json", "{\"mcpServers\": {}}", McpClientApp.ClaudeCode)]
    public void Detect_PathAndContent_NameTheClient(string path, string content, object expected)
    {
        // The enum is internal to the CLI, so theories receive it boxed.
        Assert.Equal((McpClientApp)expected, McpClientApps.Detect(path, System.Text.Encoding.UTF8.GetBytes(content)));
    }

    [Theory]
    [InlineData("claude-desktop", McpClientApp.ClaudeDesktop)]
    [InlineData("VSCode", McpClientApp.VsCode)]
    [InlineData("gemini", McpClientApp.GeminiCli)]
    public void Parse_KnownName_ReturnsClient(string name, object expected) => Assert.Equal((McpClientApp)expected, McpClientApps.Parse(name));

    [Fact]
    public void Parse_UnknownName_ReturnsNull() => Assert.Null(McpClientApps.Parse("zed"));
}
