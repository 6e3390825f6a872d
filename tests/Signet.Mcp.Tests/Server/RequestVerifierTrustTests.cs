using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Signet.Keys;
using Signet.Mcp.Server;
using Signet.Receipts;
using Signet.Trust;

namespace Signet.Mcp.Tests.Server;

/// <summary>The server filter's verifier judging agent keys by a trust bundle file, re-read when it changes.</summary>
public sealed class RequestVerifierTrustTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "signet-trust-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _path;

    public RequestVerifierTrustTests()
    {
        Directory.CreateDirectory(_dir);
        _path = Path.Combine(_dir, "trust.json");
        Bundle().Save(_path);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TrustBundle Bundle(DateTimeOffset? revokedAt = null) =>
        new TrustBundle { BundleId = "b", Org = "acme", Env = "test", GeneratedAt = Start }
            .WithEntry(TrustSection.Agents, new TrustEntry
            {
                Id = "agent",
                Name = "agent",
                Owner = "tests",
                PublicKey = TestKeys.Agent.PublicKey,
                CreatedAt = Start,
                Status = revokedAt is null ? TrustStatus.Active : TrustStatus.Revoked,
                RevokedAt = revokedAt,
            });

    private RequestVerifier Verifier() => new(new RequestVerifierOptions
    {
        TrustBundle = new TrustBundleFile(_path),
        TimeProvider = _clock,
        NonceCache = new MemoryNonceCache(timeProvider: _clock),
    });

    private JsonObject SignedCall(SigningKey? key = null)
    {
        var receipt = new ReceiptSigner(key ?? TestKeys.Agent, "agent", "", _clock)
            .SignRequest(new ReceiptAction { Tool = "read", Params = new JsonObject { ["path"] = "a.txt" }, Target = "mcp://files" });
        return new JsonObject
        {
            ["name"] = "read",
            ["arguments"] = new JsonObject { ["path"] = "a.txt" },
            ["_meta"] = new JsonObject { [SignetMetaKeys.Receipt] = receipt.Json.DeepClone() },
        };
    }

    [Fact]
    public void Verify_KeyInTheBundle_AcceptedAndTrusted()
    {
        var result = Verifier().Verify(SignedCall());

        Assert.True(result.IsValid, result.ToString());
        Assert.True(result.IsTrusted);
    }

    [Fact]
    public void Verify_KeyNotInTheBundle_Rejected()
    {
        var result = Verifier().Verify(SignedCall(TestKeys.Other));

        Assert.Equal(RequestRejection.UntrustedKey, result.Rejection);
    }

    [Fact]
    public void Verify_RevocationWrittenWhileRunning_AppliesToTheNextCallWithoutRestart()
    {
        var verifier = Verifier();
        var signedBefore = SignedCall();
        Assert.True(verifier.Verify(SignedCall()).IsValid);

        // Revoked a minute from now: until then calls pass; after it, a receipt signed after it fails.
        Bundle(revokedAt: Start.AddMinutes(1)).Save(_path);
        Assert.True(verifier.Verify(SignedCall()).IsValid);
        _clock.Advance(TimeSpan.FromMinutes(2));
        var after = verifier.Verify(SignedCall());
        // A receipt dated before the revocation, still fresh, arriving after it: a live call runs now, so the key's
        // trust is judged now too (a stolen key can date its receipts before the revocation).
        var before = verifier.Verify(signedBefore);

        Assert.Equal(RequestRejection.UntrustedKey, after.Rejection);
        Assert.Contains("(agents/agent), which was revoked at 2026-12-01T10:01:00Z; receipt ts 2026-12-01T10:02:00.000Z is not before it", after.Reason);
        Assert.Equal(RequestRejection.UntrustedKey, before.Rejection);
        Assert.Contains("no longer trusted for calls arriving now", before.Reason);
        Assert.Contains("revoked at 2026-12-01T10:01:00Z", before.Reason);
    }

    [Fact]
    public void Verify_BundleFileBrokenWhileRunning_RefusesUntilFixed()
    {
        var verifier = Verifier();
        File.WriteAllText(_path, "{ not json");

        var broken = verifier.Verify(SignedCall());
        Bundle().Save(_path);
        var fixedAgain = verifier.Verify(SignedCall());

        Assert.Equal(RequestRejection.UntrustedKey, broken.Rejection);
        Assert.Contains("the trust bundle cannot be read", broken.Reason);
        Assert.True(fixedAgain.IsValid, fixedAgain.ToString());
    }

    [Fact]
    public void Verify_KeyInTrustedAgentKeysButRevokedInTheBundle_TheBundleWins()
    {
        Bundle(revokedAt: Start).Save(_path);
        var verifier = new RequestVerifier(new RequestVerifierOptions
        {
            TrustedAgentKeys = [TestKeys.Agent.PublicKey],
            TrustBundle = new TrustBundleFile(_path),
            TimeProvider = _clock,
        });

        Assert.Equal(RequestRejection.UntrustedKey, verifier.Verify(SignedCall()).Rejection);
    }
}
