using System.Text.Json.Nodes;

namespace Signet.Core.Tests;

/// <summary>Locates the reference Signet's vectors (../shared/signet from the project root), read-only.</summary>
internal static class SharedVectors
{
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static JsonNode Load(params string[] parts) =>
        JsonNode.Parse(File.ReadAllText(Path(parts)), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 512 })!;

    private static string Find()
    {
        var env = Environment.GetEnvironmentVariable("SIGNET_SHARED_VECTORS");
        if (!string.IsNullOrEmpty(env))
        {
            return env;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(System.IO.Path.Combine(dir.FullName, "Signet.sln")))
            {
                continue;
            }
            // The shared directory sits beside the checkout, or beside the folder that holds several worktrees.
            for (var above = dir.Parent; above is not null; above = above.Parent)
            {
                var candidate = System.IO.Path.Combine(above.FullName, "shared", "signet");
                if (Directory.Exists(System.IO.Path.Combine(candidate, "vectors")))
                {
                    return candidate;
                }
            }
        }
        throw new InvalidOperationException("shared/signet vectors not found next to the repository; set SIGNET_SHARED_VECTORS");
    }
}
