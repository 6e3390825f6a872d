using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Receipts;

namespace Signet.Core.Tests.Receipts;

public sealed class ReceiptSignerTests
{
    [Fact]
    public void SignRequest_SameKeyTimeAndNonce_ReproducesReferenceReceiptExactly()
    {
        var vector = SharedVectors.Load("vectors", "v1-basic.json");
        var expected = vector["receipt"]!.AsObject();
        using var key = TestKeys.Agent();
        var signer = new ReceiptSigner(key, "peer-agent", "peer-owner",
            TestKeys.ClockAt(expected["ts"]!.GetValue<string>()), ScriptedRandom.ForNonces(expected["nonce"]!.GetValue<string>()));
        var action = expected["action"]!;

        var receipt = signer.SignRequest(new ReceiptAction
        {
            Tool = action["tool"]!.GetValue<string>(),
            Params = action["params"],
            Target = action["target"]!.GetValue<string>(),
            Session = action["session"]!.GetValue<string>(),
            CallId = action["call_id"]!.GetValue<string>(),
        });

        Assert.Equal(expected.ToJsonString(), receipt.Json.ToJsonString());
        Assert.Equal(vector["signable"]!.GetValue<string>(), System.Text.Encoding.UTF8.GetString(Signable.Canonical(receipt.Json, 1)));
    }

    [Fact]
    public void SignCompound_SameInputs_ReproducesReferenceReceiptExactly()
    {
        var vector = SharedVectors.Load("vectors", "v2-compound.json");
        var expected = vector["receipt"]!.AsObject();
        using var key = TestKeys.Agent();
        var clock = TestKeys.ClockAt(expected["ts_response"]!.GetValue<string>());
        var signer = new ReceiptSigner(key, "peer-agent", "peer-owner", clock, ScriptedRandom.ForNonces(expected["nonce"]!.GetValue<string>()));
        var action = expected["action"]!;

        var receipt = signer.SignCompound(
            new ReceiptAction { Tool = action["tool"]!.GetValue<string>(), Params = action["params"], Target = action["target"]!.GetValue<string>() },
            vector["response_content"],
            DateTimeOffset.Parse(expected["ts_request"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(expected.ToJsonString(), receipt.Json.ToJsonString());
    }

    [Fact]
    public void SignCompound_FromTheRequestReceipt_ReproducesReferenceReceiptExactly()
    {
        var vector = SharedVectors.Load("vectors", "v2-compound.json");
        var expected = vector["receipt"]!.AsObject();
        using var key = TestKeys.Agent();
        var clock = TestKeys.ClockAt(expected["ts_response"]!.GetValue<string>());
        var signer = new ReceiptSigner(key, "peer-agent", "peer-owner", clock,
            ScriptedRandom.ForNonces("rnd_00000000000000000000000000000001", expected["nonce"]!.GetValue<string>()));
        var action = expected["action"]!;
        var request = signer.SignRequest(
            new ReceiptAction { Tool = action["tool"]!.GetValue<string>(), Params = action["params"]!.DeepClone(), Target = action["target"]!.GetValue<string>() });

        var receipt = signer.SignCompound(request, vector["response_content"],
            DateTimeOffset.Parse(expected["ts_request"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(expected.ToJsonString(), receipt.Json.ToJsonString());
        Assert.Throws<ArgumentException>(() => signer.SignCompound(receipt, null, DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void CoSign_SameInputs_ReproducesReferenceReceiptExactly()
    {
        var vector = SharedVectors.Load("vectors", "v3-bilateral.json");
        var expected = vector["receipt"]!.AsObject();
        using var key = TestKeys.Server();
        var signer = new ReceiptSigner(key, "peer-server", "",
            TestKeys.ClockAt(expected["ts_response"]!.GetValue<string>()), ScriptedRandom.ForNonces(expected["nonce"]!.GetValue<string>()));
        var agent = Receipt.FromJson(expected["agent_receipt"]!.DeepClone().AsObject());
        var response = JsonNode.Parse("{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"message\\\":\\\"héllo 😀\\\"}\"}]}");

        var receipt = signer.CoSign(agent, response);

        Assert.Equal(expected.ToJsonString(), receipt.Json.ToJsonString());
    }

    [Fact]
    public void SignAndVerify_RandomParams_AlwaysValidAndTamperDetected()
    {
        using var key = TestKeys.Agent();
        var signer = new ReceiptSigner(key, "agent", "owner", random: new SeededRandom(7));
        var random = new Random(11);
        for (var i = 0; i < 200; i++)
        {
            var parameters = RandomJson.Object(random, depth: 0);
            var receipt = signer.SignRequest(new ReceiptAction { Tool = "t" + i, Params = parameters, Target = "mcp://x", CallId = "n:" + i });
            var options = new ReceiptVerificationOptions { TrustedKeys = [key.PublicKey] };
            var text = receipt.ToJsonString();
            Assert.True(ReceiptVerifier.Verify(text, options).IsValid, text);

            var tampered = JsonNode.Parse(text)!.AsObject();
            tampered["action"]!["params"]!.AsObject()["injected"] = i;
            var result = ReceiptVerifier.Verify(tampered.ToJsonString(), options);
            Assert.False(result.IsValid);
        }
    }

    [Fact]
    public void SignRequest_IntegerAboveSafeRange_ThrowsWithPath()
    {
        using var key = TestKeys.Agent();
        var signer = new ReceiptSigner(key, "agent");
        var e = Assert.Throws<CanonicalizationException>(() => signer.SignRequest(new ReceiptAction
        {
            Tool = "t",
            Params = StrictJson.Parse("{\"n\":9007199254740993}"),
            Target = "mcp://x",
        }));
        Assert.Contains("$.n", e.Message);
    }

    [Fact]
    public void SignRequest_ParamsTooDeepForReference_Refused()
    {
        using var key = TestKeys.Agent();
        var signer = new ReceiptSigner(key, "agent");
        var deep = StrictJson.Parse(new string('[', 126) + new string(']', 126));
        Assert.Throws<CanonicalizationException>(() => signer.SignRequest(new ReceiptAction { Tool = "t", Params = deep, Target = "mcp://x" }));

        var ok = StrictJson.Parse(new string('[', 125) + new string(']', 125));
        var receipt = signer.SignRequest(new ReceiptAction { Tool = "t", Params = ok, Target = "mcp://x" });
        Assert.True(ReceiptVerifier.Verify(receipt.ToJsonString()).IsValid);
    }

    [Fact]
    public void CoSign_VerifiedWithBothKeys_ChecksAgentAndServer()
    {
        using var agentKey = TestKeys.Agent();
        using var serverKey = TestKeys.Server();
        var clock = TestKeys.ClockAt("2026-11-26T10:00:00Z");
        var agent = new ReceiptSigner(agentKey, "agent", "o", clock).SignRequest(new ReceiptAction { Tool = "echo", Params = new JsonObject { ["m"] = "hi" }, Target = "mcp://echo" });
        clock.Advance(TimeSpan.FromMilliseconds(150));
        var v3 = new ReceiptSigner(serverKey, "server", "", clock).CoSign(agent, JsonNode.Parse("{\"content\":[]}"), ReceiptOutcome.Executed);

        var options = new ReceiptVerificationOptions { TrustedKeys = [serverKey.PublicKey], TrustedAgentKeys = [agentKey.PublicKey], TimeProvider = clock };
        Assert.True(ReceiptVerifier.Verify(v3.ToJsonString(), options).IsValid);

        var wrongAgent = ReceiptVerifier.Verify(v3.ToJsonString(), options with { TrustedAgentKeys = [serverKey.PublicKey] });
        Assert.False(wrongAgent.IsValid);
        Assert.StartsWith("agent_receipt.", wrongAgent.Field);

        clock.Advance(TimeSpan.FromMinutes(10));
        var late = new ReceiptSigner(serverKey, "server", "", clock).CoSign(agent, null);
        var window = ReceiptVerifier.Verify(late.ToJsonString(), options);
        Assert.False(window.IsValid);
        Assert.Contains("window", window.Reason);
    }

    [Fact]
    public void CoSign_KnownAgentReceipt_ComparedCanonicallyInsteadOfReverified()
    {
        using var agentKey = TestKeys.Agent();
        using var serverKey = TestKeys.Server();
        var clock = TestKeys.ClockAt("2026-11-26T10:00:00Z");
        var agentSigner = new ReceiptSigner(agentKey, "agent", "o", clock);
        var sent = agentSigner.SignRequest(new ReceiptAction { Tool = "echo", Params = new JsonObject { ["m"] = "hi", ["n"] = 1 }, Target = "mcp://echo" });
        var other = agentSigner.SignRequest(new ReceiptAction { Tool = "echo", Params = new JsonObject { ["m"] = "hi", ["n"] = 1 }, Target = "mcp://echo" });
        var server = new ReceiptSigner(serverKey, "server", "", clock);
        var options = new ReceiptVerificationOptions { TrustedKeys = [serverKey.PublicKey], TimeProvider = clock };

        var v3 = server.CoSign(sent, JsonNode.Parse("{\"content\":[]}"), ReceiptOutcome.Executed);
        Assert.True(ReceiptVerifier.Verify(v3.ToJsonString(), options with { KnownAgentReceipt = sent }).IsValid);

        // The same receipt with its members in another order is the same receipt (what the signatures cover).
        var reordered = new JsonObject(sent.Json.Reverse().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        Assert.True(ReceiptVerifier.Verify(v3.ToJsonString(), options with { KnownAgentReceipt = Receipt.FromJson(reordered) }).IsValid);

        var notOurs = ReceiptVerifier.Verify(v3.ToJsonString(), options with { KnownAgentReceipt = other });
        Assert.False(notOurs.IsValid);
        Assert.Equal("agent_receipt", notOurs.Field);
        Assert.Contains(other.Id, notOurs.Reason);

        // An embedded receipt whose agent signature is broken: rejected when verified as a stranger's, accepted when
        // it is byte for byte the receipt this side holds as its own (its signature is then not checked again).
        var broken = (JsonObject)sent.Json.DeepClone();
        broken["sig"] = other.Signature;
        var coSignedBroken = server.CoSign(Receipt.FromJson(broken), null);
        Assert.False(ReceiptVerifier.Verify(coSignedBroken.ToJsonString(), options).IsValid);
        Assert.True(ReceiptVerifier.Verify(coSignedBroken.ToJsonString(), options with { KnownAgentReceipt = Receipt.FromJson(broken) }).IsValid);
    }
}

internal static class RandomJson
{
    private static readonly string[] Keys = ["a", "b", "é", "😀", "\u0001", "z z", "ﬁ", "A", "10", "9", ""];

    public static JsonObject Object(Random random, int depth)
    {
        var o = new JsonObject();
        var n = random.Next(0, 5);
        for (var i = 0; i < n; i++)
        {
            o[Keys[random.Next(Keys.Length)] + random.Next(3)] = Value(random, depth + 1);
        }
        return o;
    }

    public static JsonNode? Value(Random random, int depth) => random.Next(depth > 4 ? 6 : 8) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(random.NextInt64(-(1L << 53) + 1, 1L << 53)),
        3 => JsonValue.Create(Math.Round((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-10, 15)), random.Next(0, 8))),
        4 => JsonValue.Create(new string(Enumerable.Range(0, random.Next(0, 12)).Select(_ => (char)random.Next(1, 0xD7FF)).ToArray())),
        5 => JsonValue.Create(Keys[random.Next(Keys.Length)]),
        6 => Object(random, depth),
        _ => new JsonArray(Enumerable.Range(0, random.Next(0, 4)).Select(_ => Value(random, depth + 1)).ToArray()),
    };
}
