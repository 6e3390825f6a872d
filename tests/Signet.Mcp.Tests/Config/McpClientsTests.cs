using Signet.Mcp.Config;

namespace Signet.Mcp.Tests.Config;

public sealed class McpClientsTests
{
    [Theory]
    [InlineData("/a/Claude/claude_desktop_config.json", "{}", McpClient.ClaudeDesktop)]
    [InlineData("/home/a/.claude.json", "{}", McpClient.ClaudeCode)]
    [InlineData("/src/app/.mcp.json", "{}", McpClient.ClaudeCode)]
    [InlineData("/home/a/.cursor/mcp.json", "{}", McpClient.Cursor)]
    [InlineData("/src/app/.vscode/mcp.json", "{}", McpClient.VsCode)]
    [InlineData("/home/a/.gemini/settings.json", "{}", McpClient.GeminiCli)]
    [InlineData("/home/a/.config/Code/User/mcp.json", "{\"servers\": {}}", McpClient.VsCode)]
    [InlineData("/tmp/copy.json", "{\"projects\": {}, \"mcpServers\": {}}", McpClient.ClaudeCode)]
    [InlineData("/tmp/settings.json", "{\"mcpServers\": {}}", McpClient.GeminiCli)]
    [InlineData("/tmp/any.json", "{\"mcpServers\": {}}", McpClient.ClaudeCode)]
    public void Detect_PathAndContent_NameTheClient(string path, string content, McpClient expected)
    {
        Assert.Equal(expected, McpClients.Detect(path, System.Text.Encoding.UTF8.GetBytes(content)));
    }

    [Theory]
    [InlineData("claude-desktop", McpClient.ClaudeDesktop)]
    [InlineData("VSCode", McpClient.VsCode)]
    [InlineData("gemini", McpClient.GeminiCli)]
    public void Parse_KnownName_ReturnsClient(string name, McpClient expected) => Assert.Equal(expected, McpClients.Parse(name));

    [Fact]
    public void Parse_UnknownName_ReturnsNull() => Assert.Null(McpClients.Parse("zed"));
}
