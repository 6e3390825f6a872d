using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Canonicalization;

namespace Signet.Core.Tests.Audit;

/// <summary>A fresh directory under the temp folder, removed on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "signet-audit-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

internal static class TestReceipts
{
    /// <summary>A v1-shaped receipt (unsigned; the chain does not care about signatures).</summary>
    public static JsonObject V1(int i, string tool = "search", string signer = "agent", string ts = "2026-11-26T12:00:00.000Z") => new()
    {
        ["v"] = 1,
        ["id"] = $"rec_{i:x32}",
        ["action"] = new JsonObject
        {
            ["tool"] = tool,
            ["params"] = new JsonObject { ["q"] = $"query {i} ü 😀", ["n"] = 1.50, ["big"] = 1e21 },
            ["params_hash"] = "sha256:" + new string('0', 64),
            ["target"] = "mcp://test",
            ["transport"] = "stdio",
        },
        ["signer"] = new JsonObject { ["pubkey"] = "ed25519:test", ["name"] = signer, ["owner"] = "" },
        ["ts"] = ts,
        ["nonce"] = $"rnd_{i:x32}",
        ["sig"] = "ed25519:none",
    };

    /// <summary>The record hash as the reference defines it, computed the long way.</summary>
    public static string ReferenceHash(string prev, JsonNode receipt) =>
        JsonCanonicalizer.Sha256(new JsonObject { ["prev_hash"] = prev, ["receipt"] = receipt.DeepClone() });

    /// <summary>Copies the reference-written log from the shared vectors.</summary>
    public static void CopyReferenceLog(string to)
    {
        foreach (var file in Directory.GetFiles(SharedVectors.Path("vectors", "audit", "audit")))
        {
            System.IO.File.Copy(file, System.IO.Path.Combine(to, System.IO.Path.GetFileName(file)));
        }
    }

    /// <summary>The v1, v2 and v3 receipts inside the reference-written log, in order.</summary>
    public static List<JsonObject> ReferenceReceipts() =>
        [.. Directory.GetFiles(SharedVectors.Path("vectors", "audit", "audit"), "*.jsonl").Order(StringComparer.Ordinal)
            .SelectMany(System.IO.File.ReadAllLines)
            .Where(l => l.Trim().Length > 0)
            .Select(l => (JsonObject)StrictJson.Parse(l)!["receipt"]!.DeepClone())];

    public static string[] Lines(string file) =>
        System.IO.File.ReadAllLines(file).Where(l => l.Trim().Length > 0).ToArray();
}

/// <summary>A TimeProvider set by the test (no timers needed by durable-mode tests).</summary>
internal sealed class SettableTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

internal static class AuditAssert
{
    public static AuditVerifyResult Intact(string directory, long count)
    {
        var result = AuditVerifier.Verify(directory);
        Assert.True(result.IsIntact, $"chain broken: {result.Break}");
        Assert.Equal(count, result.RecordCount);
        return result;
    }
}
