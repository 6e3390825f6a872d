using System.Text.Json.Nodes;

namespace Signet.Mcp.Tests;

/// <summary>Locates the reference Signet's vectors (../shared/signet from the repository root), read-only.</summary>
internal static class SharedVectors
{
    public static string Root { get; } = Find();

    public static JsonObject Load(string relativePath) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "vectors", relativePath)), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 512 })!.AsObject();

    private static string Find()
    {
        var env = Environment.GetEnvironmentVariable("SIGNET_SHARED_VECTORS");
        if (!string.IsNullOrEmpty(env))
        {
            return env;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
            {
                continue;
            }
            // The repository, or a worktree of it: look beside it and beside its parents.
            for (var up = dir; up is not null; up = up.Parent)
            {
                var candidate = Path.Combine(up.FullName, "shared", "signet");
                if (Directory.Exists(Path.Combine(candidate, "vectors")))
                {
                    return candidate;
                }
            }
        }
        throw new InvalidOperationException("shared/signet vectors not found beside the repository; set SIGNET_SHARED_VECTORS");
    }
}
