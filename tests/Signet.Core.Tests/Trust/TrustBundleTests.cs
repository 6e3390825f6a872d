using System.Text;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Keys;
using Signet.Receipts;
using Signet.Trust;

namespace Signet.Core.Tests.Trust;

public sealed class TrustBundleTests
{
    private static string Fixture => System.IO.Path.Combine(SharedVectors.Root, "..", "..", "Signet.Core.Tests", "Trust", "Fixtures", "reference-shaped-bundle.json");

    private static string Temp() => System.IO.Path.Combine(System.IO.Path.GetTempPath(), "signet-trust-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public void Parse_ReferenceShapedBundle_WritesTheSameBytes()
    {
        var bytes = File.ReadAllBytes(Fixture);
        var bundle = TrustBundle.Parse(bytes, Fixture);

        Assert.Equal("tb_acme_prod_2026_12", bundle.BundleId);
        Assert.Equal(3, bundle.Agents.Count);
        Assert.Equal(TrustStatus.Revoked, bundle.Agents[0].Status);
        Assert.Equal(Encoding.UTF8.GetString(bytes), Encoding.UTF8.GetString(bundle.ToUtf8()));
    }

    [Fact]
    public void Save_ThenLoad_RoundTripsAndLeavesNoTemporaryFile()
    {
        var dir = Temp();
        try
        {
            var path = System.IO.Path.Combine(dir, "trust.json");
            TrustBundle.Load(Fixture).Save(path);
            Assert.Equal(File.ReadAllBytes(Fixture), File.ReadAllBytes(path));
            Assert.Equal(["trust.json"], Directory.GetFiles(dir).Select(System.IO.Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("agents", 1, "status", "\"maybe\"", "agents[1] (id \"agent-ci-2\"), field \"status\": \"maybe\" is not one of active, disabled, revoked")]
    [InlineData("agents", 0, "revoked_at", "\"2026-11-20T17:45:12+02:00\"", "agents[0] (id \"agent-ci\"), field \"revoked_at\"")]
    [InlineData("agents", 2, "pubkey", "\"ed25519:AAAA\"", "agents[2] (id \"agent-old\"), field \"pubkey\"")]
    [InlineData("roots", 0, "colour", "\"red\"", "roots[0] (id \"root-2026\"), field \"colour\": unknown field")]
    [InlineData("agents", 1, "pubkey", "\"ed25519:re0crWU/9YjQYx5F7TYI2YQ+hehKw6zPEpIV2OdVWoc=\"", "repeats the key of entry \"agent-ci\"")]
    public void Parse_BadEntry_NamesFileSectionEntryAndField(string section, int index, string field, string value, string expected)
    {
        var json = JsonNode.Parse(File.ReadAllText(Fixture))!;
        json[section]![index]![field] = JsonNode.Parse(value);

        var e = Assert.Throws<TrustBundleException>(() => TrustBundle.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "b.json"));

        Assert.StartsWith("b.json: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("env", "\"Prod\"", "field \"env\"")]
    [InlineData("version", "2", "unsupported version 2")]
    [InlineData("servers", "null", "field \"servers\"")]
    public void Parse_BadTopLevelField_NamesIt(string field, string value, string expected)
    {
        var json = JsonNode.Parse(File.ReadAllText(Fixture))!;
        json[field] = JsonNode.Parse(value);
        var e = Assert.Throws<TrustBundleException>(() => TrustBundle.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "b.json"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Parse_Yaml_SaysToConvert()
    {
        var e = Assert.Throws<TrustBundleException>(() => TrustBundle.Parse("version: 1\nbundle_id: x\n"u8, "bundle.yaml"));
        Assert.Contains("convert it to JSON", e.Message);
    }

    [Fact]
    public void Evaluate_RevokedKey_TrustedBeforeTheRevocationOnly()
    {
        var bundle = TrustBundle.Load(Fixture);
        var key = bundle.Agents[0].PublicKey;

        Assert.True(bundle.Evaluate(TrustSection.Agents, key, DateTimeOffset.Parse("2026-11-20T17:45:12.124Z")).IsTrusted);
        var after = bundle.Evaluate(TrustSection.Agents, key, DateTimeOffset.Parse("2026-11-20T17:45:12.125Z"));
        Assert.False(after.IsTrusted);
        Assert.Contains("agents/agent-ci", after.Reason);
        Assert.Contains("revoked at 2026-11-20T17:45:12.125Z", after.Reason);
        Assert.False(bundle.Evaluate(TrustSection.Servers, key, DateTimeOffset.Parse("2026-01-01T00:00:00Z")).IsTrusted);
    }

    [Fact]
    public void Verify_ReceiptBeforeAndAfterRevocation_OnlyTheEarlierOneValid()
    {
        using var agent = TestKeys.Agent();
        var bundle = TrustBundle.Load(Fixture);
        var before = new ReceiptSigner(agent, "ci", timeProvider: TestKeys.ClockAt("2026-11-20T17:00:00Z")).SignRequest(Action());
        var after = new ReceiptSigner(agent, "ci", timeProvider: TestKeys.ClockAt("2026-11-21T09:00:00Z")).SignRequest(Action());
        var options = new ReceiptVerificationOptions { TrustBundle = bundle, AllowExpired = true };

        var ok = ReceiptVerifier.Verify(before, options);
        var refused = ReceiptVerifier.Verify(after, options);
        var referenceRule = ReceiptVerifier.Verify(before, options with { TrustAt = DateTimeOffset.Parse("2026-12-01T00:00:00Z") });

        Assert.True(ok.IsValid, ok.Reason);
        Assert.True(ok.IsAnchored);
        Assert.False(refused.IsValid);
        Assert.Contains("(agents/agent-ci), which was revoked at 2026-11-20T17:45:12.125Z; receipt ts 2026-11-21T09:00:00.000Z is not before it", refused.Reason);
        Assert.False(referenceRule.IsValid);
    }

    [Fact]
    public void Verify_CoSignedReceipt_AgentJudgedInAgentsServerInServersEachAtItsOwnTime()
    {
        using var agent = TestKeys.Agent();
        using var server = TestKeys.Server();
        var start = DateTimeOffset.Parse("2026-12-01T10:00:00Z");
        var clock = TestKeys.ClockAt("2026-12-01T10:00:00Z");
        var request = new ReceiptSigner(agent, "agent", timeProvider: clock).SignRequest(Action());
        clock.Advance(TimeSpan.FromSeconds(2));
        var cosigned = new ReceiptSigner(server, "server", timeProvider: clock).CoSign(request, new JsonObject { ["ok"] = true });
        TrustEntry Entry(string id, SigningKey key, DateTimeOffset? revokedAt = null) => new()
        {
            Id = id, Name = id, Owner = "", PublicKey = key.PublicKey, CreatedAt = start,
            Status = revokedAt is null ? TrustStatus.Active : TrustStatus.Revoked, RevokedAt = revokedAt,
        };
        var bundle = new TrustBundle { BundleId = "b", Org = "o", Env = "test", GeneratedAt = start }
            .WithEntry(TrustSection.Agents, Entry("agent", agent))
            .WithEntry(TrustSection.Servers, Entry("server", server));
        var options = new ReceiptVerificationOptions { TrustBundle = bundle, AllowExpired = true };

        var ok = ReceiptVerifier.Verify(cosigned, options);
        // The server revoked one second after the agent asked: its co-signature at +2 s is refused.
        var serverRevoked = ReceiptVerifier.Verify(cosigned, options with
        {
            TrustBundle = bundle.WithReplaced(TrustSection.Servers, "server", Entry("server", server, start.AddSeconds(1))),
        });
        // The server key listed only as an agent is not trusted to co-sign.
        var wrongSection = ReceiptVerifier.Verify(cosigned, options with
        {
            TrustBundle = new TrustBundle { BundleId = "b", Org = "o", Env = "test", GeneratedAt = start }
                .WithEntry(TrustSection.Agents, Entry("agent", agent)).WithEntry(TrustSection.Agents, Entry("server", server)),
        });

        Assert.True(ok.IsValid, ok.Reason);
        Assert.False(serverRevoked.IsValid);
        Assert.Equal("ts_response", serverRevoked.Field);
        Assert.Contains("(servers/server), which was revoked at 2026-12-01T10:00:01Z", serverRevoked.Reason);
        Assert.False(wrongSection.IsValid);
        Assert.Contains("not in the trust bundle's servers", wrongSection.Reason);
    }

    [Fact]
    public void BundleFile_RewrittenWithARevocation_NextReadSeesIt()
    {
        var dir = Temp();
        try
        {
            var path = System.IO.Path.Combine(dir, "trust.json");
            var bundle = TrustBundle.Load(Fixture);
            bundle.Save(path);
            var source = new TrustBundleFile(path);
            var key = bundle.Agents[1].PublicKey;
            var at = DateTimeOffset.Parse("2026-12-02T00:00:00Z");
            Assert.True(source.Current.Evaluate(TrustSection.Agents, key, at).IsTrusted);

            bundle.WithReplaced(TrustSection.Agents, "agent-ci-2", bundle.Agents[1] with
            {
                Status = TrustStatus.Revoked,
                RevokedAt = DateTimeOffset.Parse("2026-12-01T00:00:00Z"),
            }).Save(path);

            Assert.False(source.Current.Evaluate(TrustSection.Agents, key, at).IsTrusted);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task KeyRotation_ForgedProof_IsRefusedInTheLog()
    {
        var dir = Temp();
        try
        {
            using var oldKey = TestKeys.Agent();
            using var newKey = TestKeys.Other();
            using var impostor = TestKeys.Server();
            var bundle = new TrustBundle { BundleId = "b", Org = "o", Env = "test", GeneratedAt = DateTimeOffset.Parse("2026-12-01T00:00:00Z") }
                .WithEntry(TrustSection.Agents, new TrustEntry { Id = "old", Name = "old", Owner = "", PublicKey = oldKey.PublicKey, CreatedAt = DateTimeOffset.Parse("2026-12-01T00:00:00Z") });
            // The announcement names newKey, but the proof is made by another key: the announcer does not hold newKey.
            var action = KeyRotation.CreateAction(oldKey.PublicKey, impostor, TrustSection.Agents, "new", "new", "");
            action.Params!["new_pubkey"] = newKey.PublicKey.Text;
            var clock = TestKeys.ClockAt("2026-12-02T00:00:00Z");
            await Append(dir, clock, new ReceiptSigner(oldKey, "old", timeProvider: clock).SignRequest(action));
            clock.Advance(TimeSpan.FromHours(1));
            await Append(dir, clock, new ReceiptSigner(newKey, "new", timeProvider: clock).SignRequest(Action()));

            var result = AuditVerifier.Verify(dir, new AuditVerifyOptions { TrustBundle = bundle });

            var rotation = Assert.Single(result.KeyRotations);
            Assert.False(rotation.Accepted);
            Assert.Contains("proof of possession does not verify", rotation.Reason);
            Assert.Equal(2, result.SignatureFailures.Count);
            Assert.Contains("not in the trust bundle's agents", result.SignatureFailures[1].Reason);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task Append(string dir, TimeProvider clock, Receipt receipt)
    {
        await using var log = AuditLog.Open(dir, new AuditLogOptions { TimeProvider = clock });
        await log.AppendAsync(receipt.Json);
    }

    private static ReceiptAction Action() => new() { Tool = "deploy", Params = new JsonObject { ["env"] = "prod" }, Target = "mcp://ops" };
}
