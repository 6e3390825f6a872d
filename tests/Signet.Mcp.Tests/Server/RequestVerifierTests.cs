using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Signet.Keys;
using Signet.Mcp.Server;
using Signet.Receipts;

namespace Signet.Mcp.Tests.Server;

public sealed class RequestVerifierTests
{
    private readonly FakeTimeProvider _clock = TestKeys.Clock();

    private RequestVerifier Verifier(Func<RequestVerifierOptions, RequestVerifierOptions>? configure = null, INonceCache? nonces = null)
    {
        var options = new RequestVerifierOptions
        {
            TrustedAgentKeys = [TestKeys.Agent.PublicKey],
            ExpectedTarget = "mcp://files",
            TimeProvider = _clock,
            NonceCache = nonces ?? new MemoryNonceCache(timeProvider: _clock),
        };
        return new RequestVerifier(configure?.Invoke(options) ?? options);
    }

    private JsonObject SignedCall(string tool = "read", JsonNode? arguments = null, SigningKey? key = null, string target = "mcp://files",
        string metaKey = SignetMetaKeys.Receipt, DateTimeOffset? expires = null, TimeProvider? time = null, bool omitArguments = false)
    {
        var signer = new ReceiptSigner(key ?? TestKeys.Agent, "agent", "", time ?? _clock);
        var args = omitArguments ? null : arguments ?? new JsonObject { ["path"] = "a.txt" };
        var receipt = signer.SignRequest(new ReceiptAction { Tool = tool, Params = args ?? new JsonObject(), Target = target, CallId = "n:1" }, expires);
        var call = new JsonObject { ["name"] = tool, ["_meta"] = new JsonObject { ["progressToken"] = 1, [metaKey] = receipt.Json.DeepClone() } };
        if (args is not null)
        {
            call["arguments"] = args.DeepClone();
        }
        return call;
    }

    [Fact]
    public void Verify_ValidCall_AcceptedAndTrusted()
    {
        var result = Verifier().Verify(SignedCall());

        Assert.True(result.IsValid, result.ToString());
        Assert.True(result.IsTrusted);
        Assert.Equal(SignetMetaKeys.Receipt, result.MetaKey);
        Assert.Equal(RequestRejection.None, result.Rejection);
    }

    [Fact]
    public void Verify_ReferenceKey_Accepted()
    {
        var result = Verifier().Verify(SignedCall(metaKey: SignetMetaKeys.ReferenceReceipt));

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal([SignetMetaKeys.ReferenceReceipt], result.MetaKeys);
    }

    [Fact]
    public void Verify_NoArgumentsSignedAsEmptyObject_Accepted()
    {
        // The reference client signs {} for a call without arguments; its server then compared against null and failed.
        var result = Verifier().Verify(SignedCall(omitArguments: true));

        Assert.True(result.IsValid, result.ToString());
    }

    [Fact]
    public void Verify_Unsigned_Rejected()
    {
        var result = Verifier().Verify(new JsonObject { ["name"] = "read", ["arguments"] = new JsonObject() });

        Assert.Equal(RequestRejection.Unsigned, result.Rejection);
        Assert.Contains(SignetMetaKeys.Receipt, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ReceiptNotAnObject_Invalid()
    {
        var call = new JsonObject { ["name"] = "read", ["_meta"] = new JsonObject { [SignetMetaKeys.Receipt] = "rec_x" } };

        Assert.Equal(RequestRejection.InvalidReceipt, Verifier().Verify(call).Rejection);
    }

    [Fact]
    public void Verify_TamperedReceipt_InvalidWithField()
    {
        var call = SignedCall();
        call["_meta"]![SignetMetaKeys.Receipt]!["action"]!["target"] = "mcp://elsewhere";

        var result = Verifier().Verify(call);

        Assert.Equal(RequestRejection.InvalidReceipt, result.Rejection);
        Assert.Contains("signature mismatch", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_UntrustedKey_Rejected()
    {
        var result = Verifier().Verify(SignedCall(key: TestKeys.Other));

        Assert.Equal(RequestRejection.UntrustedKey, result.Rejection);
        Assert.Contains(TestKeys.Other.PublicKey.Text, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AnyKeyAllowed_AcceptedAsUntrusted()
    {
        var result = Verifier(o => new RequestVerifierOptions { AllowAnyAgentKey = true, TimeProvider = o.TimeProvider }).Verify(SignedCall(key: TestKeys.Other));

        Assert.True(result.IsValid, result.ToString());
        Assert.False(result.IsTrusted);
    }

    [Fact]
    public void Constructor_NoTrustedKeys_ThrowsWithAdvice()
    {
        var e = Assert.Throws<ArgumentException>(() => new RequestVerifier(new RequestVerifierOptions()));

        Assert.Contains("AllowAnyAgentKey", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_Expired_NotFresh()
    {
        var call = SignedCall(expires: _clock.GetUtcNow().AddSeconds(10));
        _clock.Advance(TimeSpan.FromSeconds(20));

        var result = Verifier().Verify(call);

        Assert.Equal(RequestRejection.NotFresh, result.Rejection);
        Assert.Contains("expired", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_OlderThanMaxAge_NotFresh()
    {
        var call = SignedCall();
        _clock.Advance(TimeSpan.FromMinutes(6));

        var result = Verifier().Verify(call);

        Assert.Equal(RequestRejection.NotFresh, result.Rejection);
        Assert.Contains("300 s ago", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_DatedBeyondClockSkew_NotFresh()
    {
        var future = new FakeTimeProvider(_clock.GetUtcNow().AddMinutes(2));

        var result = Verifier().Verify(SignedCall(time: future));

        Assert.Equal(RequestRejection.NotFresh, result.Rejection);
        Assert.Contains("future", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_WithinClockSkew_Accepted()
    {
        var ahead = new FakeTimeProvider(_clock.GetUtcNow().AddSeconds(20));

        Assert.True(Verifier().Verify(SignedCall(time: ahead)).IsValid);
    }

    [Fact]
    public void Verify_WrongTarget_Rejected()
    {
        var result = Verifier().Verify(SignedCall(target: "mcp://other"));

        Assert.Equal(RequestRejection.WrongTarget, result.Rejection);
    }

    [Fact]
    public void Verify_OtherToolOrArguments_CallMismatch()
    {
        var call = SignedCall();
        call["name"] = "delete";
        Assert.Equal(RequestRejection.CallMismatch, Verifier().Verify(call).Rejection);

        var call2 = SignedCall();
        call2["arguments"]!["path"] = "/etc/passwd";
        Assert.Equal(RequestRejection.CallMismatch, Verifier().Verify(call2).Rejection);
    }

    [Fact]
    public void Verify_SameArgumentsDifferentKeyOrderAndNumberForm_Accepted()
    {
        var call = SignedCall(arguments: new JsonObject { ["a"] = 1, ["b"] = 2.5 });
        call["arguments"] = JsonNode.Parse("{\"b\":2.50,\"a\":1.0}");

        Assert.True(Verifier().Verify(call).IsValid);
    }

    [Fact]
    public void Verify_Replayed_RejectedSecondTime()
    {
        var verifier = Verifier();
        var call = SignedCall();

        Assert.True(verifier.Verify(call).IsValid);
        var second = verifier.Verify(call.DeepClone().AsObject());

        Assert.Equal(RequestRejection.Replayed, second.Rejection);
    }

    /// <summary>A shared nonce store that is down.</summary>
    private sealed class UnavailableNonceCache : INonceCache
    {
        public bool TryRecord(string signerKey, string nonce, DateTimeOffset expiresAt) =>
            throw new NonceCacheUnavailableException("the nonce store is down: start it");
    }

    [Fact]
    public void Verify_NonceCacheUnavailable_RejectedWithTheCachesReason()
    {
        var result = Verifier(nonces: new UnavailableNonceCache()).Verify(SignedCall());

        Assert.False(result.IsValid);
        Assert.Equal(RequestRejection.NonceCacheUnavailable, result.Rejection);
        Assert.Equal("the nonce store is down: start it", result.Reason);
    }

    /// <summary>A cache that answers only asynchronously, as a store across the network would be asked.</summary>
    private sealed class AsyncOnlyNonceCache(TimeProvider clock) : INonceCache
    {
        private readonly MemoryNonceCache _inner = new(timeProvider: clock);

        public int AsyncCalls { get; private set; }

        public bool TryRecord(string signerKey, string nonce, DateTimeOffset expiresAt) => throw new InvalidOperationException("asked synchronously");

        public async ValueTask<bool> TryRecordAsync(string signerKey, string nonce, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            AsyncCalls++;
            return _inner.TryRecord(signerKey, nonce, expiresAt);
        }
    }

    [Fact]
    public async Task VerifyAsync_Replayed_AsksTheCacheAsynchronouslyAndRejectsSecondTime()
    {
        var nonces = new AsyncOnlyNonceCache(_clock);
        var verifier = Verifier(nonces: nonces);
        var call = SignedCall();

        Assert.True((await verifier.VerifyAsync(call)).IsValid);
        var second = await verifier.VerifyAsync(call.DeepClone().AsObject());

        Assert.Equal(RequestRejection.Replayed, second.Rejection);
        Assert.Equal(2, nonces.AsyncCalls);
    }

    [Fact]
    public async Task VerifyAsync_NonceCacheUnavailable_RejectedWithTheCachesReason()
    {
        var result = await Verifier(nonces: new UnavailableNonceCache()).VerifyAsync(SignedCall());

        Assert.Equal(RequestRejection.NonceCacheUnavailable, result.Rejection);
        Assert.Equal("the nonce store is down: start it", result.Reason);
    }

    [Fact]
    public void Verify_RejectedRequest_DoesNotSpendNonce()
    {
        var verifier = Verifier();
        var call = SignedCall();
        var wrongTool = call.DeepClone().AsObject();
        wrongTool["name"] = "delete";

        Assert.Equal(RequestRejection.CallMismatch, verifier.Verify(wrongTool).Rejection);
        Assert.True(verifier.Verify(call).IsValid);
    }

    [Fact]
    public void Verify_V2ReceiptInMeta_Rejected()
    {
        var signer = TestKeys.AgentSigner(_clock);
        var action = new ReceiptAction { Tool = "read", Params = new JsonObject(), Target = "mcp://files" };
        var v2 = signer.SignCompound(action, new JsonObject(), _clock.GetUtcNow());
        var call = new JsonObject { ["name"] = "read", ["_meta"] = new JsonObject { [SignetMetaKeys.Receipt] = v2.Json.DeepClone() } };

        var result = Verifier().Verify(call);

        Assert.Equal(RequestRejection.InvalidReceipt, result.Rejection);
        Assert.Contains("must be v1", result.Reason, StringComparison.Ordinal);
    }
}

public sealed class MemoryNonceCacheTests
{
    [Fact]
    public void TryRecord_SameNonceTwice_SecondRefused()
    {
        var cache = new MemoryNonceCache(timeProvider: TestKeys.Clock());
        var expiry = DateTimeOffset.MaxValue;

        Assert.True(cache.TryRecord("k", "rnd_1", expiry));
        Assert.False(cache.TryRecord("k", "rnd_1", expiry));
        Assert.True(cache.TryRecord("other-key", "rnd_1", expiry));
    }

    [Fact]
    public void TryRecord_AfterExpiry_ForgottenAndAcceptedAgain()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var cache = new MemoryNonceCache(timeProvider: clock);
        Assert.True(cache.TryRecord("k", "rnd_1", clock.GetUtcNow().AddMinutes(1)));

        clock.Advance(TimeSpan.FromMinutes(2));

        Assert.True(cache.TryRecord("k", "rnd_2", clock.GetUtcNow().AddMinutes(1)));
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryRecord("k", "rnd_1", clock.GetUtcNow().AddMinutes(1)));
    }

    [Fact]
    public void TryRecord_BeyondMaxEntries_EvictsOldestAndCountsIt()
    {
        var cache = new MemoryNonceCache(maxEntries: 2, timeProvider: TestKeys.Clock());
        var expiry = DateTimeOffset.MaxValue;

        cache.TryRecord("k", "rnd_1", expiry);
        cache.TryRecord("k", "rnd_2", expiry);
        cache.TryRecord("k", "rnd_3", expiry);

        Assert.Equal(2, cache.Count);
        Assert.Equal(1, cache.Evicted);
        Assert.False(cache.TryRecord("k", "rnd_3", expiry));
    }

    [Fact]
    public void TryRecord_Concurrent_EachNonceAcceptedOnce()
    {
        var cache = new MemoryNonceCache(timeProvider: TestKeys.Clock());
        var accepted = 0;

        Parallel.For(0, 4000, i =>
        {
            if (cache.TryRecord("k", $"rnd_{i % 1000}", DateTimeOffset.MaxValue))
            {
                Interlocked.Increment(ref accepted);
            }
        });

        Assert.Equal(1000, accepted);
    }
}
