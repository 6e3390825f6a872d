using ModelContextProtocol.Client;
using Signet.Audit;
using Signet.Keys;
using Signet.Mcp.Client;

namespace Signet.Mcp.Tests.Docs;

/// <summary>The README's C# snippet lives here, so it compiles; a test checks the README still shows it verbatim.</summary>
public sealed class ReadmeSnippetTests
{
    static async Task ReadmeSnippetAsync()
    {
        // readme-begin
        using var key = KeyStore.ForHome(SignetHome.Resolve(null)).Load("my-agent", PassphraseSource.FromEnvironment()).Key;
        await using var log = AuditLog.Open(SignetHome.AuditDirectory(SignetHome.Resolve(null)));
        var transport = new SigningTransport(
            new StdioClientTransport(new() { Name = "files", Command = "npx", Arguments = ["-y", "@modelcontextprotocol/server-filesystem", "."] }),
            new SigningTransportOptions { Key = key, SignerName = "my-agent", AuditLog = log });
        await using var client = await McpClient.CreateAsync(transport);
        await client.CallToolAsync("list_directory", new Dictionary<string, object?> { ["path"] = "." });  // signed, logged, then sent
        // readme-end
    }

    [Fact]
    public void Readme_CSharpSnippet_IsTheCompiledOne()
    {
        _ = (Func<Task>)ReadmeSnippetAsync;
        var root = Root();
        var source = File.ReadAllLines(Path.Combine(root, "tests", "Signet.Mcp.Tests", "Docs", "ReadmeSnippetTests.cs"));
        var begin = Array.FindIndex(source, l => l.Trim() == "// readme-begin");
        var end = Array.FindIndex(source, l => l.Trim() == "// readme-end");
        var snippet = string.Join("\n", source[(begin + 1)..end].Select(l => l.Length >= 8 ? l[8..] : l.TrimStart()));
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        Assert.Contains(snippet, readme);
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("repository root not found");
    }
}
