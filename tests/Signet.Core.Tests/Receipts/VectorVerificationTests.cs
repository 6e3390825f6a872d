using System.Text;
using System.Text.Json.Nodes;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Core.Tests.Receipts;

/// <summary>Every receipt the reference Signet signed or judged gets its expected verdict here.</summary>
public sealed class VectorVerificationTests
{
    private static readonly string[] StrictDiffers = ["v2-unvalidated-timestamps.json"];

    public static TheoryData<string> TopLevel()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(SharedVectors.Path("vectors"), "v*.json").Select(Path.GetFileName).Order())
        {
            data.Add(file!);
        }
        return data;
    }

    public static TheoryData<string> LaxVectors() => Files("lax");

    [Theory]
    [MemberData(nameof(TopLevel))]
    public void Verify_SharedVector_GivesExpectedVerdict(string file)
    {
        var vector = SharedVectors.Load("vectors", file);
        var expected = vector["expect_valid"]!.GetValue<bool>();
        var options = OptionsFor(vector);

        var strict = Verify(vector, options);
        var lax = Verify(vector, options with { Lax = true });

        if (StrictDiffers.Contains(file))
        {
            Assert.True(lax.IsValid, lax.ToString());
            Assert.False(strict.IsValid);
            Assert.Contains("RFC 3339", strict.Reason);
            return;
        }
        Assert.True(expected == strict.IsValid, $"strict: {strict}");
        Assert.True(expected == lax.IsValid, $"lax: {lax}");
        if (expected)
        {
            Assert.True(strict.IsAnchored);
        }
        else
        {
            Assert.False(string.IsNullOrEmpty(strict.Reason));
        }
    }

    [Theory]
    [MemberData(nameof(LaxVectors))]
    public void Verify_LaxVector_StrictRejectsWithReasonLaxAccepts(string file)
    {
        var vector = SharedVectors.Load("vectors", "lax", file);
        var key = PublicKey.Parse(vector["public_key"]!.GetValue<string>());
        var raw = RawReceipt("lax", file);

        var strict = ReceiptVerifier.Verify(raw, new ReceiptVerificationOptions { TrustedKeys = [key] });
        var lax = ReceiptVerifier.Verify(raw, new ReceiptVerificationOptions { TrustedKeys = [key], Lax = true });

        Assert.True(lax.IsValid, lax.ToString());
        Assert.False(strict.IsValid);
        var expectedWord = file switch
        {
            "v1-duplicate-key.json" => "duplicate key",
            "v1-id-not-derived-from-sig.json" => "not derived from the signature",
            "v1-params-hash-mismatch.json" => "does not match the params",
            "v1-signer-pubkey-not-signing-key.json" => "not the signing key",
            "v1-unknown-field-added.json" => "unknown field",
            _ => throw new InvalidOperationException("new lax vector: " + file),
        };
        Assert.Contains(expectedWord, strict.Reason);
    }

    [Fact]
    public void Verify_ExpiredReceipt_RejectedUnlessAllowed()
    {
        var vector = SharedVectors.Load("vectors", "modern", "v1-exp-past.json");
        var options = new ReceiptVerificationOptions { TrustedKeys = [TestKeys.AgentPublic] };
        var result = ReceiptVerifier.Verify(vector["receipt"]!.ToJsonString(), options);
        Assert.False(result.IsValid);
        Assert.Equal("exp", result.Field);
        Assert.Contains("expired at 2026-05-01T10:05:00.000Z", result.Reason);

        Assert.True(ReceiptVerifier.Verify(vector["receipt"]!.ToJsonString(), options with { AllowExpired = true }).IsValid);
    }

    [Fact]
    public void Verify_ExpiryInFuture_ValidUntilClockPassesIt()
    {
        var vector = SharedVectors.Load("vectors", "modern", "v1-exp-future.json");
        var clock = TestKeys.ClockAt("2098-12-31T23:59:59Z");
        var options = new ReceiptVerificationOptions { TrustedKeys = [TestKeys.AgentPublic], TimeProvider = clock };
        Assert.True(ReceiptVerifier.Verify(vector["receipt"]!.ToJsonString(), options).IsValid);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(ReceiptVerifier.Verify(vector["receipt"]!.ToJsonString(), options).IsValid);
    }

    [Theory]
    [InlineData("v1-policy.json", true)]
    [InlineData("v1-policy-tampered.json", false)]
    [InlineData("v1-trace-fields.json", true)]
    [InlineData("v1-trace-fields-tampered.json", false)]
    [InlineData("v3-outcome-failed.json", true)]
    [InlineData("v3-outcome-tampered.json", false)]
    [InlineData("v4-fixture.json", true)]
    public void Verify_ModernVector_MatchesReferenceVerdict(string file, bool valid)
    {
        var vector = SharedVectors.Load("vectors", "modern", file);
        var options = OptionsFor(vector);
        if (file.StartsWith("v4", StringComparison.Ordinal))
        {
            options = options with { TrustedKeys = [PublicKey.Parse(vector["root_public_key"]!.GetValue<string>())] };
        }
        var result = ReceiptVerifier.Verify(RawReceipt("modern", file), options);
        Assert.True(valid == result.IsValid, result.ToString());
    }

    [Fact]
    public void Verify_V4ChainEditedAfterSigning_StrictRejectsLaxAccepts()
    {
        var raw = RawReceipt("modern", "v4-chain-tampered.json");
        var strict = ReceiptVerifier.Verify(raw);
        Assert.False(strict.IsValid);
        Assert.Equal("authorization.chain_hash", strict.Field);
        Assert.True(ReceiptVerifier.Verify(raw, new ReceiptVerificationOptions { Lax = true }).IsValid);
    }

    [Theory]
    [InlineData("v1-policy.json")]
    [InlineData("v1-trace-fields.json")]
    [InlineData("v1-exp-future.json")]
    [InlineData("v3-outcome-failed.json")]
    [InlineData("v4-fixture.json")]
    public void Receipt_ModernFields_SurviveParseVerifySerialize(string file)
    {
        var raw = RawReceipt("modern", file);
        var receipt = Receipt.Parse(raw);
        Assert.True(ReceiptVerifier.Verify(receipt).IsValid);

        var written = receipt.ToJsonString();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(raw), JsonNode.Parse(written)));
        Assert.True(ReceiptVerifier.Verify(written).IsValid);
    }

    [Theory]
    [InlineData("ts-signed.json")]
    [InlineData("python-signed.json")]
    public void Verify_ReferenceFixtures_AllValid(string file)
    {
        var fixtures = SharedVectors.Load("fixtures", file).AsObject();
        foreach (var (version, entry) in fixtures)
        {
            var e = entry!.AsObject();
            var options = version switch
            {
                "v3" => new ReceiptVerificationOptions
                {
                    TrustedKeys = [PublicKey.Parse(e["server_public_key"]!.GetValue<string>())],
                    TrustedAgentKeys = [PublicKey.Parse(e["agent_public_key"]!.GetValue<string>())],
                    MaxTimeWindow = TimeSpan.Zero,
                },
                "v4" => new ReceiptVerificationOptions { TrustedKeys = [PublicKey.Parse(e["owner_public_key"]!.GetValue<string>())] },
                _ => new ReceiptVerificationOptions { TrustedKeys = [PublicKey.Parse(e["public_key"]!.GetValue<string>())] },
            };
            var result = ReceiptVerifier.Verify(e["receipt"]!.ToJsonString(), options);
            Assert.True(result.IsValid, $"{file} {version}: {result}");
        }
    }

    [Fact]
    public void Verify_GarbageInput_ReturnsResultWithoutThrowing()
    {
        foreach (var input in new[] { "", "[]", "{", "{\"v\":1}", "{\"v\":\"1\"}", "{\"v\":1.0}", "{\"v\":9}", "null", "{\"v\":1,\"action\":[]}" })
        {
            var result = ReceiptVerifier.Verify(input);
            Assert.False(result.IsValid);
            Assert.False(string.IsNullOrEmpty(result.Reason));
        }
    }

    private static ReceiptVerificationOptions OptionsFor(JsonNode vector)
    {
        var key = PublicKey.Parse(vector["public_key"]!.GetValue<string>());
        var options = new ReceiptVerificationOptions { TrustedKeys = [key] };
        if (vector["agent_public_key"] is { } agent)
        {
            options = options with { TrustedAgentKeys = [PublicKey.Parse(agent.GetValue<string>())] };
        }
        return options;
    }

    private static ReceiptVerification Verify(JsonNode vector, ReceiptVerificationOptions options)
    {
        var file = vector["name"]!.GetValue<string>() + ".json";
        return ReceiptVerifier.Verify(RawReceipt(null, file), options);
    }

    /// <summary>The receipt exactly as written in the vector file (a re-serialization would hide duplicate keys).</summary>
    private static byte[] RawReceipt(string? folder, string file)
    {
        var text = File.ReadAllText(folder is null ? SharedVectors.Path("vectors", file) : SharedVectors.Path("vectors", folder, file));
        var start = text.IndexOf("\"receipt\":", StringComparison.Ordinal);
        start = text.IndexOf('{', start);
        var depth = 0;
        var inString = false;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }
                continue;
            }
            if (c == '"')
            {
                inString = true;
            }
            else if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && --depth == 0)
            {
                return Encoding.UTF8.GetBytes(text[start..(i + 1)]);
            }
        }
        throw new InvalidOperationException("no receipt in " + file);
    }

    private static TheoryData<string> Files(string folder)
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(SharedVectors.Path("vectors", folder), "*.json").Select(Path.GetFileName).Order())
        {
            data.Add(f!);
        }
        return data;
    }
}
