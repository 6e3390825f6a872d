using Signet.Audit;
using Signet.Core.Tests.Audit;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Core.Tests.Keys;

/// <summary>The <see cref="ISigner"/> seam: a key that signs elsewhere is taken wherever a key signs.</summary>
public sealed class SignerSeamTests
{
    [Fact]
    public void ReceiptSigner_KeyThatSignsElsewhere_EveryReceiptGoesThroughItAndVerifies()
    {
        using var key = SigningKey.Generate();
        using var elsewhere = new ElsewhereSigner(key);
        var signer = new ReceiptSigner(elsewhere, "token-agent");

        var request = signer.SignRequest(new ReceiptAction { Tool = "echo", Target = "mcp://x" });
        var response = signer.SignCompound(request, new System.Text.Json.Nodes.JsonObject { ["ok"] = true }, DateTimeOffset.UtcNow);
        var cosigned = signer.CoSign(request, null);

        Assert.Equal(3, elsewhere.Signatures);
        foreach (var receipt in new[] { request, response })
        {
            var verified = ReceiptVerifier.Verify(receipt, new ReceiptVerificationOptions { TrustedKeys = [key.PublicKey] });
            Assert.True(verified.IsValid && verified.IsAnchored, verified.Reason);
        }
        Assert.True(ReceiptVerifier.Verify(cosigned).IsValid);
    }

    [Fact]
    public void AuditBundleExport_KeyThatSignsElsewhere_ManifestSignedByItVerifies()
    {
        using var dir = new TempDirectory();
        using var key = SigningKey.Generate();
        using var elsewhere = new ElsewhereSigner(key);
        var bundle = Path.Combine(dir.Path, "bundle");

        AuditBundle.Export(SharedVectors.Path("vectors", "audit", "audit"), bundle, elsewhere);

        Assert.Equal(1, elsewhere.Signatures);
        var verdict = AuditBundle.Verify(bundle, new AuditBundleVerifyOptions { TrustedKeys = [key.PublicKey], VerifySignatures = true });
        Assert.True(verdict.IsValid && verdict.IsAnchored, string.Join("; ", verdict.Problems));
    }

    [Fact]
    public void SigningKey_AsISigner_DescribesItselfWithoutKeyMaterial()
    {
        using var key = SigningKey.Generate();
        ISigner signer = key;

        Assert.Equal("in-memory key", signer.Description);
        Assert.True(key.PublicKey.Verify("x"u8, signer.Sign("x"u8)));
    }

    [Fact]
    public void LoadedKey_KeyNotInMemory_KeyThrowsNamingSignerAndSignerSigns()
    {
        using var key = SigningKey.Generate();
        using var loaded = new LoadedKey("agent", "", new ElsewhereSigner(key));

        var error = Assert.Throws<InvalidOperationException>(() => loaded.Key);

        Assert.Contains("a key elsewhere", error.Message, StringComparison.Ordinal);
        Assert.Contains("LoadedKey.Signer", error.Message, StringComparison.Ordinal);
        Assert.Equal(key.PublicKey, loaded.PublicKey);
        Assert.True(key.PublicKey.Verify("x"u8, loaded.Signer.Sign("x"u8)));
    }

    /// <summary>A signer that is not a <see cref="SigningKey"/>, as a token key is not; it counts what it signs.</summary>
    private sealed class ElsewhereSigner(SigningKey key) : ISigner
    {
        public int Signatures { get; private set; }

        public PublicKey PublicKey => key.PublicKey;

        public string Description => "a key elsewhere";

        public byte[] Sign(ReadOnlySpan<byte> data)
        {
            Signatures++;
            return key.Sign(data);
        }

        public void Dispose()
        {
        }
    }
}
