using System.Text;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Canonicalization;
using Signet.Core.Tests.Audit;
using Signet.Keys;
using Signet.Receipts;
using Signet.Transparency;

namespace Signet.Core.Tests.Keys;

/// <summary>
/// What the signer agent agrees to sign: the bytes every signing path of Signet produces are recognised, with their kind;
/// anything else is refused with a reason.
/// </summary>
public sealed class AgentSignablesTests
{
    [Theory]
    [InlineData("v1-basic.json", "receipt-v1")]
    [InlineData("v2-compound.json", "receipt-v2")]
    [InlineData("v3-bilateral.json", "receipt-v3")]
    [InlineData("modern/v4-fixture.json", "receipt-v4")]
    public void Classify_ReferenceSignable_RecognisedAsItsVersion(string vector, string kind)
    {
        var v = SharedVectors.Load(["vectors", .. vector.Split('/')]);
        var key = PublicKey.Parse(v["public_key"]!.GetValue<string>());

        var what = AgentSignables.Classify(Encoding.UTF8.GetBytes(v["signable"]!.GetValue<string>()), key);

        Assert.Equal(kind, what.Kind);
    }

    [Fact]
    public void Classify_EverySigningPathOfSignet_EachRecognised()
    {
        using var key = SigningKey.Generate();
        var seen = new CapturingSigner(key);
        var receipts = new ReceiptSigner(seen, "agent", "ops");
        var request = receipts.SignRequest(new ReceiptAction { Tool = "echo", Params = new JsonObject { ["m"] = "hi" }, Target = "mcp://x" });
        receipts.SignCompound(request, new JsonObject { ["ok"] = true }, DateTimeOffset.UtcNow);
        receipts.CoSign(request, null);
        var checkpoint = new Checkpoint("example.com/log", 7, new byte[32]).ToText();
        new NoteSigner("example.com/log", seen).Sign(checkpoint);
        Cosignature.Sign("witness.example", seen, checkpoint, DateTimeOffset.UtcNow);
        using (var dir = new TempDirectory())
        {
            AuditBundle.Export(SharedVectors.Path("vectors", "audit", "audit"), Path.Combine(dir.Path, "bundle"), seen);
        }

        var kinds = seen.Signed.Select(data => AgentSignables.Classify(data, key.PublicKey)).ToList();

        Assert.Equal(["receipt-v1", "receipt-v2", "receipt-v3", "checkpoint", "cosignature", "bundle-manifest"], kinds.Select(k => k.Kind ?? "refused: " + k.Detail));
        Assert.Equal("echo", kinds[0].Tool);
        Assert.Equal(request.Id, kinds[2].CoSignedReceipt);
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "arbitrary bytes", "not a Signet signable" },
        { "{\"b\":1,\"a\":2}", "canonical" },
        { "{\"a\":1}", "receipt version" },
        { "[1,2]", "not a Signet signable" },
        { "example.com/log\nnot a size\nAAAA\n", "not a Signet signable" },
        { "cosignature/v1\ntime 01\nexample.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "time line" },
        { "", "empty" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Classify_NotASignable_RefusedWithReason(string text, string reason)
    {
        using var key = SigningKey.Generate();

        var what = AgentSignables.Classify(Encoding.UTF8.GetBytes(text), key.PublicKey);

        Assert.True(what.IsRefused);
        Assert.Contains(reason, what.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_SixtyFourRandomBytes_Refused()
    {
        using var key = SigningKey.Generate();
        var digest = System.Security.Cryptography.SHA512.HashData("a transaction"u8);

        Assert.True(AgentSignables.Classify(digest, key.PublicKey).IsRefused);
    }

    [Fact]
    public void Classify_ReceiptNamingAnotherKey_Refused()
    {
        using var key = SigningKey.Generate();
        using var other = SigningKey.Generate();
        var seen = new CapturingSigner(other);
        new ReceiptSigner(seen, "agent").SignRequest(new ReceiptAction { Tool = "echo", Target = "mcp://x" });

        var what = AgentSignables.Classify(seen.Signed[0], key.PublicKey);

        Assert.True(what.IsRefused);
        Assert.Contains("not this agent's key", what.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_ReceiptSignableWithAnExtraField_Refused()
    {
        using var key = SigningKey.Generate();
        var seen = new CapturingSigner(key);
        new ReceiptSigner(seen, "agent").SignRequest(new ReceiptAction { Tool = "echo", Target = "mcp://x" });
        var json = JsonNode.Parse(seen.Signed[0])!.AsObject();
        json["zzz"] = "smuggled";

        var what = AgentSignables.Classify(JsonCanonicalizer.Canonicalize(json), key.PublicKey);

        Assert.True(what.IsRefused);
        Assert.Contains("not exactly a v1 receipt's signable", what.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_ManifestWithItsSignature_Refused()
    {
        using var key = SigningKey.Generate();
        var manifest = new JsonObject
        {
            ["format_version"] = 1, ["producer"] = "p", ["generated_at"] = "t", ["host"] = "h", ["record_count"] = 1,
            ["chain_start_prev_hash"] = "a", ["chain_tip_record_hash"] = "b", ["records_sha256"] = "c", ["signature"] = "x",
        };

        var what = AgentSignables.Classify(JsonCanonicalizer.Canonicalize(manifest), key.PublicKey);

        Assert.True(what.IsRefused);
        Assert.Contains("without its signature", what.Detail, StringComparison.Ordinal);
    }

    /// <summary>Signs with a key and keeps every message it signed.</summary>
    private sealed class CapturingSigner(SigningKey key) : ISigner
    {
        public List<byte[]> Signed { get; } = [];

        public PublicKey PublicKey => key.PublicKey;

        public string Description => "capturing";

        public byte[] Sign(ReadOnlySpan<byte> data)
        {
            Signed.Add(data.ToArray());
            return key.Sign(data);
        }

        public void Dispose()
        {
        }
    }
}
