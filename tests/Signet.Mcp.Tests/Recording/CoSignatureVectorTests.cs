using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Mcp.Client;
using Signet.Mcp.Recording;
using Signet.Mcp.Server;
using Signet.Receipts;

namespace Signet.Mcp.Tests.Recording;

/// <summary>The client-side co-signature check against the reference Signet's own v3 vectors, and our v3 against its rules.</summary>
public sealed class CoSignatureVectorTests
{
    private static PublicKey Key(JsonObject vector, string field) => PublicKey.Parse("ed25519:" + vector[field]!.GetValue<string>());

    public static TheoryData<string> V3Vectors() =>
    [
        "v3-bilateral.json", "v3-extensions-unsigned.json", "v3-server-cosigned-invalid-agent.json", "v3-tamper-agent-params.json",
        "v3-tamper-agent-sig.json", "v3-tamper-content-hash.json", "v3-tamper-nonce.json", "v3-tamper-server-name.json",
        "v3-tamper-ts-response.json", "v3-wrong-server-key.json",
    ];

    [Theory]
    [MemberData(nameof(V3Vectors))]
    public void CheckCoSignature_ReferenceVector_JudgedAsTheReferenceJudgesIt(string file)
    {
        var vector = SharedVectors.Load(file);
        var original = SharedVectors.Load("v3-bilateral.json");
        // What this call sent: the untampered agent receipt the reference's server co-signed.
        var sent = Receipt.FromJson(original["receipt"]!["agent_receipt"]!.DeepClone().AsObject());
        var response = JsonNode.Parse(vector["response_jcs"]!["canonical"]!.GetValue<string>());
        var options = new ReceiptVerificationOptions
        {
            TrustedKeys = [Key(vector, "public_key")],
            TrustedAgentKeys = [Key(original, "agent_public_key")],
            MaxTimeWindow = TimeSpan.Zero,
        };

        var problem = ToolCallRecorder.CheckCoSignature(vector["receipt"]!.DeepClone(), SignetMetaKeys.ReferenceCoSignature, sent, response, options, out var verification);

        Assert.True(vector["expect_valid"]!.GetValue<bool>() == (problem is null), $"{file}: {problem ?? "accepted"}");
        if (problem is null)
        {
            Assert.True(verification!.IsAnchored);
        }
    }

    [Fact]
    public void CheckCoSignature_ReferenceVectorWithoutTrustedKeys_IntegrityOnly()
    {
        var vector = SharedVectors.Load("v3-bilateral.json");
        var sent = Receipt.FromJson(vector["receipt"]!["agent_receipt"]!.DeepClone().AsObject());
        var response = JsonNode.Parse(vector["response_jcs"]!["canonical"]!.GetValue<string>());

        var problem = ToolCallRecorder.CheckCoSignature(vector["receipt"]!.DeepClone(), SignetMetaKeys.CoSignature, sent, response,
            new ReceiptVerificationOptions { MaxTimeWindow = TimeSpan.Zero }, out var verification);

        Assert.Null(problem);
        Assert.False(verification!.IsAnchored);
    }

    [Fact]
    public async Task CoSignResponses_OurV3_FollowsTheReferenceShapeAndRules()
    {
        var serverKey = SigningKey.FromSeed(Convert.FromBase64String(SharedVectors.Load("summary.json")["keys"]!["server"]!["secret_key"]!.GetValue<string>()));
        await using var server = InProcessServer.Start(o =>
        {
            o.Filters.Request.CallToolFilters.Add(SignetServerFilters.VerifyReceipts(new RequestVerifier(new RequestVerifierOptions { TrustedAgentKeys = [TestKeys.Agent.PublicKey] })));
            o.Filters.Request.CallToolFilters.Add(SignetServerFilters.CoSignResponses(new ReceiptSigner(serverKey, "vector-server")));
        });
        var sink = new MemorySink();
        var transport = new SigningTransport(server.ClientTransport(), new SignetOptions
        {
            Key = TestKeys.Agent, SignerName = "agent", AuditLog = sink, MetaKeyMode = ReceiptMetaKeyMode.Reference,
            TrustedServerKeys = [serverKey.PublicKey], RequireCoSignature = true,
        });
        // The reference's client speaks the initialize-era protocol.
        await using var client = await McpClient.CreateAsync(transport, ClientExtensions.Protocol("2025-11-25")).WaitAsync(TimeSpan.FromSeconds(60));

        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "héllo 😀" }).AsTask().WaitAsync(TimeSpan.FromSeconds(60));

        var v3 = result.Meta![SignetMetaKeys.ReferenceCoSignature]!.AsObject();
        var reference = SharedVectors.Load("v3-bilateral.json")["receipt"]!.AsObject();
        Assert.Equal(reference.Select(p => p.Key), v3.Select(p => p.Key));
        Assert.Equal(reference["server"]!.AsObject().Select(p => p.Key), v3["server"]!.AsObject().Select(p => p.Key));
        // The reference's client check: drop _signet_bilateral (and an empty _meta), hash the rest, verify with the server key.
        var asReceived = System.Text.Json.JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions)!.AsObject();
        asReceived["_meta"]!.AsObject().Remove(SignetMetaKeys.ReferenceCoSignature);
        if (asReceived["_meta"]!.AsObject().Count == 0)
        {
            asReceived.Remove("_meta");
        }
        Assert.Equal(JsonCanonicalizer.Sha256(asReceived), v3["response"]!["content_hash"]!.GetValue<string>());
        foreach (var lax in new[] { true, false })
        {
            var check = ReceiptVerifier.Verify(v3, new ReceiptVerificationOptions { TrustedKeys = [serverKey.PublicKey], Lax = lax });
            Assert.True(check.IsValid, check.ToString());
        }
        Assert.Equal(sink.OfVersion(1).Single().ToJsonString(), Receipt.FromJson(v3["agent_receipt"]!.DeepClone().AsObject()).ToJsonString());
        Assert.Single(sink.OfVersion(3));
    }
}
