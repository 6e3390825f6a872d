using System.Text.Json.Nodes;

namespace Signet.Mcp.Tests;

/// <summary>Locates the reference Signet's vectors kept in tests/vectors/reference-signet of the repository, read-only.</summary>
internal static class SharedVectors
{
    public static string Root { get; } = Find();

    public static JsonObject Load(string relativePath) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "vectors", relativePath)), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 512 })!.AsObject();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
            {
                return Path.Combine(dir.FullName, "tests", "vectors", "reference-signet");
            }
        }
        throw new InvalidOperationException("tests/vectors/reference-signet not found: run the tests from a checkout of the repository");
    }
}
