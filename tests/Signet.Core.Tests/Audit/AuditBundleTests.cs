using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Keys;

namespace Signet.Core.Tests.Audit;

public sealed class AuditBundleTests
{
    [Fact]
    public void Export_ReferenceLog_BundleVerifiesWithTheSignerKey()
    {
        using var dir = new TempDirectory();
        using var key = SigningKey.Generate();
        var out1 = Path.Combine(dir.Path, "bundle");
        var export = AuditBundle.Export(SharedVectors.Path("vectors", "audit", "audit"), out1, key);

        Assert.Equal(5, export.RecordCount);
        Assert.Equal(Signet.Canonicalization.SignetHash.Genesis, export.ChainStartPrevHash);
        Assert.Equal("sha256:69c177c0a30db7acf3ff61926e2fa64f49afe327597bc6410d53c1c63c8f7335", export.ChainTipRecordHash);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(out1, "manifest.json")))!;
        Assert.Equal(5, (int)manifest["record_count"]!);
        Assert.Equal(key.PublicKey.Text, (string?)manifest["signature"]!["pubkey"]);

        var verdict = AuditBundle.Verify(out1, new AuditBundleVerifyOptions { TrustedKeys = [key.PublicKey], VerifySignatures = true });
        Assert.True(verdict.IsValid, string.Join("; ", verdict.Problems));
        Assert.True(verdict.IsAnchored);
        Assert.Equal(5, verdict.RecordCount);
    }

    [Fact]
    public void Verify_RecordsAndManifestBothRewritten_SignatureCatchesIt()
    {
        using var dir = new TempDirectory();
        using var key = SigningKey.Generate();
        var bundle = Path.Combine(dir.Path, "bundle");
        AuditBundle.Export(SharedVectors.Path("vectors", "audit", "audit"), bundle, key);

        // Drop the last record and fix up the manifest to match, as an editor of an unsigned bundle could.
        var records = File.ReadAllLines(Path.Combine(bundle, "records.jsonl"));
        File.WriteAllLines(Path.Combine(bundle, "records.jsonl"), records[..^1]);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(bundle, "manifest.json")))!.AsObject();
        var last = JsonNode.Parse(records[^2])!;
        manifest["record_count"] = 4;
        manifest["chain_tip_record_hash"] = (string?)last["record_hash"];
        using (var stream = File.OpenRead(Path.Combine(bundle, "records.jsonl")))
        {
            manifest["records_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
        }
        File.WriteAllText(Path.Combine(bundle, "manifest.json"), manifest.ToJsonString());

        var verdict = AuditBundle.Verify(bundle, new AuditBundleVerifyOptions { TrustedKeys = [key.PublicKey] });
        Assert.False(verdict.IsValid);
        Assert.Contains(verdict.Problems, p => p.Contains("manifest signature does not verify", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_EditedRecord_ReportsDigestAndChain()
    {
        using var dir = new TempDirectory();
        using var key = SigningKey.Generate();
        var bundle = Path.Combine(dir.Path, "bundle");
        AuditBundle.Export(SharedVectors.Path("vectors", "audit", "audit"), bundle, key);
        var path = Path.Combine(bundle, "records.jsonl");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"tool\":\"c\"", "\"tool\":\"d\"", StringComparison.Ordinal));

        var verdict = AuditBundle.Verify(bundle, new AuditBundleVerifyOptions { TrustedKeys = [key.PublicKey] });
        Assert.Contains(verdict.Problems, p => p.Contains("records.jsonl was changed", StringComparison.Ordinal));
        Assert.Contains(verdict.Problems, p => p.Contains("line 3 (Edited)", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_OtherSigner_NotTrusted()
    {
        using var dir = new TempDirectory();
        using var key = SigningKey.Generate();
        using var other = SigningKey.Generate();
        var bundle = Path.Combine(dir.Path, "bundle");
        AuditBundle.Export(SharedVectors.Path("vectors", "audit", "audit"), bundle, key);
        var verdict = AuditBundle.Verify(bundle, new AuditBundleVerifyOptions { TrustedKeys = [other.PublicKey] });
        Assert.Contains(verdict.Problems, p => p.Contains("not a trusted key", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_UnsignedManifest_RefusedUnlessAllowed()
    {
        using var dir = new TempDirectory();
        using var key = SigningKey.Generate();
        var bundle = Path.Combine(dir.Path, "bundle");
        AuditBundle.Export(SharedVectors.Path("vectors", "audit", "audit"), bundle, key);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(bundle, "manifest.json")))!.AsObject();
        manifest.Remove("signature");
        File.WriteAllText(Path.Combine(bundle, "manifest.json"), manifest.ToJsonString());

        Assert.False(AuditBundle.Verify(bundle).IsValid);
        var lenient = AuditBundle.Verify(bundle, new AuditBundleVerifyOptions { AllowUnsigned = true });
        Assert.True(lenient.IsValid, string.Join("; ", lenient.Problems));
        Assert.NotEmpty(lenient.Warnings);
    }

    [Fact]
    public async Task Export_BrokenLog_Refused()
    {
        using var dir = new TempDirectory();
        using var key = SigningKey.Generate();
        var audit = Path.Combine(dir.Path, "audit");
        await using (var log = AuditLog.Open(audit))
        {
            await log.AppendAsync(TestReceipts.V1(1));
            await log.AppendAsync(TestReceipts.V1(2));
        }
        var file = Directory.GetFiles(audit, "*.jsonl").Single();
        File.WriteAllText(file, File.ReadAllText(file).Replace("query 2", "query 3", StringComparison.Ordinal));
        var e = Assert.Throws<SignetException>(() => AuditBundle.Export(audit, Path.Combine(dir.Path, "b"), key));
        Assert.Contains("line 2", e.Message, StringComparison.Ordinal);
    }
}
