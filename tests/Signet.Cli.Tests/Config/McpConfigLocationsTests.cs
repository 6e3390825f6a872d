using Signet.Cli.Config;

namespace Signet.Cli.Tests.Config;

public sealed class McpConfigLocationsTests
{
    [Fact]
    public void Find_LinuxHomeAndProject_ReturnsExistingFilesWithClients()
    {
        using var home = new TempDirectory();
        using var project = new TempDirectory();
        home.Write(".config/Claude/claude_desktop_config.json", "{}"u8.ToArray());
        home.Write(".claude.json", "{}"u8.ToArray());
        home.Write(".config/Code/User/mcp.json", "{}"u8.ToArray());
        project.Write(".vscode/mcp.json", "{}"u8.ToArray());
        project.Write(".gemini/settings.json", "{}"u8.ToArray());

        var found = McpConfigLocations.Find(home.Path, project.Path, HostOs.Linux, _ => null);

        Assert.Equal(
            [
                (home.File(".config", "Claude", "claude_desktop_config.json"), McpClientApp.ClaudeDesktop, "user"),
                (home.File(".claude.json"), McpClientApp.ClaudeCode, "user"),
                (home.File(".config", "Code", "User", "mcp.json"), McpClientApp.VsCode, "user"),
                (project.File(".vscode", "mcp.json"), McpClientApp.VsCode, "project"),
                (project.File(".gemini", "settings.json"), McpClientApp.GeminiCli, "project"),
            ],
            found.Select(l => (l.Path, l.Client, l.Scope)).ToArray());
    }

    [Fact]
    public void Candidates_MacOSAndWindows_UseTheirApplicationDataFolders()
    {
        var mac = McpConfigLocations.Candidates("/Users/a", "/Users/a/p", HostOs.MacOS, _ => null);
        var windows = McpConfigLocations.Candidates("/home/w", "/home/w/p", HostOs.Windows, v => v == "APPDATA" ? "/roaming" : null);

        Assert.Contains(Path.GetFullPath("/Users/a/Library/Application Support/Claude/claude_desktop_config.json"), mac.Select(l => l.Path));
        Assert.Contains(Path.GetFullPath("/roaming/Claude/claude_desktop_config.json"), windows.Select(l => l.Path));
        Assert.Contains(Path.GetFullPath("/roaming/Code/User/mcp.json"), windows.Select(l => l.Path));
    }

    [Fact]
    public void Candidates_WorkingDirectoryIsHome_ListsEachFileOnce()
    {
        var list = McpConfigLocations.Candidates("/home/a", "/home/a", HostOs.Linux, _ => null);

        Assert.Equal(list.Count, list.Select(l => l.Path).Distinct().Count());
        Assert.Single(list, l => l.Path == Path.GetFullPath("/home/a/.cursor/mcp.json"));
    }
}
