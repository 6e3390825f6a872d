using System.Text.Json.Nodes;

namespace Signet.Core.Tests;

/// <summary>Locates the reference Signet's vectors kept in tests/vectors/reference-signet of the repository, read-only.</summary>
internal static class SharedVectors
{
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static JsonNode Load(params string[] parts) =>
        JsonNode.Parse(File.ReadAllText(Path(parts)), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 512 })!;

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Signet.sln")))
            {
                return System.IO.Path.Combine(dir.FullName, "tests", "vectors", "reference-signet");
            }
        }
        throw new InvalidOperationException("tests/vectors/reference-signet not found: run the tests from a checkout of the repository");
    }
}
