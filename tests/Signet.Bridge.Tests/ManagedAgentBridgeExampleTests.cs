using System.Text.Json;
using System.Text.Json.Nodes;

namespace Signet.Bridge.Tests;

/// <summary>The ManagedAgentBridge example keeps its key, token, audit log and logs in one folder that git ignores.</summary>
public sealed class ManagedAgentBridgeExampleTests
{
    [Fact]
    public void Appsettings_StateAndLogs_LiveInAFolderTheRepositoryIgnores()
    {
        var root = Root();
        var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "examples", "ManagedAgentBridge", "appsettings.json")),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
        var home = settings["Signet"]!["Home"]!.GetValue<string>();
        var fileSink = settings["Serilog"]!["WriteTo"]!.AsArray().Single(s => s!["Name"]!.GetValue<string>() == "File")!;
        var logPath = fileSink["Args"]!["path"]!.GetValue<string>();
        var ignored = File.ReadAllLines(Path.Combine(root, ".gitignore")).Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);

        Assert.False(Path.IsPathRooted(home));
        Assert.DoesNotContain('/', home.TrimEnd('/'));
        Assert.Contains(home.TrimEnd('/') + "/", ignored);
        Assert.StartsWith(home.TrimEnd('/') + "/", logPath, StringComparison.Ordinal);
        Assert.Null(settings["Signet"]!["TokenFile"]); // the token defaults to <Home>/bridge.token
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
