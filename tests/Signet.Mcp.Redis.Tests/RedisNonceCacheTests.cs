using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Signet.Keys;
using Signet.Mcp.Server;
using Signet.Mcp.Tests;
using Signet.Receipts;
using StackExchange.Redis;

namespace Signet.Mcp.Redis.Tests;

/// <summary>The cache against a real redis-server on loopback, started by each test.</summary>
public sealed class RedisNonceCacheTests
{
    private static readonly SigningKey Agent = SigningKey.Generate();
    private static readonly SigningKey OtherAgent = SigningKey.Generate();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    private RedisNonceCache Cache(string configuration, NonceCacheFailureMode mode = NonceCacheFailureMode.FailClosed, ILoggerFactory? logs = null) =>
        new(new RedisNonceCacheOptions { Configuration = configuration, FailureMode = mode, TimeProvider = _clock }, logs);

    private DateTimeOffset InFiveMinutes => _clock.GetUtcNow().AddMinutes(5);

    private static string Nonce() => "rnd_" + Guid.NewGuid().ToString("N");

    /// <summary>A connection of the test's own, to look at what the cache wrote.</summary>
    private static async Task<ConnectionMultiplexer> ConnectAsync(RedisServer redis)
    {
        var options = ConfigurationOptions.Parse(redis.Configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        return await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(TestTimeout.Value);
    }

    private JsonObject SignedCall(SigningKey key)
    {
        var arguments = new JsonObject { ["path"] = "a.txt" };
        var receipt = new ReceiptSigner(key, "agent", "", _clock).SignRequest(new ReceiptAction { Tool = "read", Params = arguments, Target = "mcp://files" });
        return new JsonObject { ["name"] = "read", ["arguments"] = arguments.DeepClone(), ["_meta"] = new JsonObject { [SignetMetaKeys.Receipt] = receipt.Json.DeepClone() } };
    }

    private RequestVerifier Verifier(INonceCache nonces) => new(new RequestVerifierOptions
    {
        TrustedAgentKeys = [Agent.PublicKey, OtherAgent.PublicKey],
        NonceCache = nonces,
        TimeProvider = _clock,
    });

    [Fact]
    public async Task TryRecord_FirstUseThenReplay_TrueThenFalse()
    {
        await using var redis = await RedisServer.StartAsync();
        using var cache = Cache(redis.Configuration);
        var nonce = Nonce();

        Assert.True(cache.TryRecord(Agent.PublicKey.Text, nonce, InFiveMinutes));
        Assert.False(cache.TryRecord(Agent.PublicKey.Text, nonce, InFiveMinutes));
    }

    [Fact]
    public async Task TryRecord_SameNonceOtherSigner_Independent()
    {
        await using var redis = await RedisServer.StartAsync();
        using var cache = Cache(redis.Configuration);
        var nonce = Nonce();

        Assert.True(cache.TryRecord(Agent.PublicKey.Text, nonce, InFiveMinutes));
        Assert.True(cache.TryRecord(OtherAgent.PublicKey.Text, nonce, InFiveMinutes));
        Assert.False(cache.TryRecord(OtherAgent.PublicKey.Text, nonce, InFiveMinutes));
    }

    [Fact]
    public async Task TryRecord_KeyAndTtl_PrefixSignerNonceLivingUntilTheExpiry()
    {
        await using var redis = await RedisServer.StartAsync();
        using var cache = Cache(redis.Configuration);
        await using var look = await ConnectAsync(redis);
        var nonce = Nonce();

        Assert.True(cache.TryRecord(Agent.PublicKey.Text, nonce, _clock.GetUtcNow().AddSeconds(90)));

        var key = "signet:nonce:" + Agent.PublicKey.Text + ":" + nonce;
        var pttl = (long)await look.GetDatabase().ExecuteAsync("PTTL", key);
        // Set to 90,000 ms; Redis counts it down in real time from the SET, so it can only be lower when read back.
        Assert.InRange(pttl, 90_000 - TestTimeout.Value.TotalMilliseconds, 90_000);
        Assert.Equal("", (string?)await look.GetDatabase().StringGetAsync(key));
    }

    [Fact]
    public async Task Verify_AcceptedCall_NonceLivesForMaxAgePlusClockSkewAfterTheReceiptsTs()
    {
        await using var redis = await RedisServer.StartAsync();
        using var cache = Cache(redis.Configuration);
        await using var look = await ConnectAsync(redis);
        var call = SignedCall(Agent);
        _clock.Advance(TimeSpan.FromMinutes(1));  // the receipt is a minute old when it arrives

        Assert.True(Verifier(cache).Verify(call).IsValid);

        var nonce = (string)call["_meta"]![SignetMetaKeys.Receipt]!["nonce"]!;
        var pttl = (long)await look.GetDatabase().ExecuteAsync("PTTL", cache.Key(Agent.PublicKey.Text, nonce));
        // Default MaxAge 5 min + ClockSkew 30 s after ts, a minute of which has passed: 4.5 min left.
        var expected = (long)TimeSpan.FromSeconds(270).TotalMilliseconds;
        Assert.InRange(pttl, expected - TestTimeout.Value.TotalMilliseconds, expected);
    }

    [Fact]
    public void Key_LongNonce_HashedSoTheKeyStaysBounded()
    {
        using var cache = new RedisNonceCache(new RedisNonceCacheOptions { Configuration = "127.0.0.1:" + RedisServer.FreePort(), ConnectTimeout = TimeSpan.FromMilliseconds(100) });
        var nonce = new string('n', 10_000);

        var key = cache.Key(Agent.PublicKey.Text, nonce);

        Assert.StartsWith("signet:nonce:" + Agent.PublicKey.Text + ":sha256:", key, StringComparison.Ordinal);
        Assert.True(key.Length < 200, key);
        Assert.NotEqual(key, cache.Key(Agent.PublicKey.Text, nonce + "x"));
    }

    [Fact]
    public async Task TryRecord_ManyConcurrentChecksOfOneNonce_ExactlyOneWins()
    {
        await using var redis = await RedisServer.StartAsync();
        // Two connections, as two servers would have.
        using var first = Cache(redis.Configuration);
        using var second = Cache(redis.Configuration);
        var nonce = Nonce();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var checks = Enumerable.Range(0, 64).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await (i % 2 == 0 ? first : second).TryRecordAsync(Agent.PublicKey.Text, nonce, InFiveMinutes);
        })).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(checks).WaitAsync(TestTimeout.Value);

        Assert.Single(results, r => r);
    }

    [Fact]
    public async Task Verify_RedisDown_FailClosedRefusesNamingRedisAndWhatToDo()
    {
        await using var redis = await RedisServer.StartAsync();
        using var cache = Cache(redis.Configuration);
        var verifier = Verifier(cache);
        Assert.True(verifier.Verify(SignedCall(Agent)).IsValid);

        await redis.StopAsync();
        var result = verifier.Verify(SignedCall(Agent));

        Assert.False(result.IsValid);
        Assert.Equal(RequestRejection.NonceCacheUnavailable, result.Rejection);
        Assert.Contains($"Redis (127.0.0.1:{redis.Port})", result.Reason, StringComparison.Ordinal);
        Assert.Contains("the call is refused", result.Reason, StringComparison.Ordinal);
        Assert.Contains("FailOpen", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRecord_RedisNeverReachable_RefusedWithoutThePassword()
    {
        var port = RedisServer.FreePort();
        using var cache = Cache($"127.0.0.1:{port},password=hunter2-b7c1e9", NonceCacheFailureMode.FailClosed);

        var e = Assert.Throws<NonceCacheUnavailableException>(() => cache.TryRecord(Agent.PublicKey.Text, Nonce(), InFiveMinutes));

        Assert.Contains($"127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", cache.Redis, StringComparison.Ordinal);
        Assert.IsAssignableFrom<RedisException>(e.InnerException);
    }

    [Fact]
    public async Task TryRecord_RedisDown_FailOpenAcceptsAndWarnsEachTime()
    {
        await using var redis = await RedisServer.StartAsync();
        var logs = new CapturingLogs();
        using var cache = Cache(redis.Configuration, NonceCacheFailureMode.FailOpen, logs);
        var nonce = Nonce();
        Assert.True(cache.TryRecord(Agent.PublicKey.Text, nonce, InFiveMinutes));

        await redis.StopAsync();

        // Unchecked: even the nonce already used passes, which is what fail-open means.
        Assert.True(cache.TryRecord(Agent.PublicKey.Text, nonce, InFiveMinutes));
        Assert.True(cache.TryRecord(Agent.PublicKey.Text, Nonce(), InFiveMinutes));
        var warnings = logs.At(LogLevel.Warning).Where(m => m.StartsWith("FAIL-OPEN:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.Contains($"Redis (127.0.0.1:{redis.Port})", w, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TryRecord_RedisRestarted_ReconnectsAndRecordsAgain()
    {
        await using var redis = await RedisServer.StartAsync();
        var options = ConfigurationOptions.Parse(redis.Configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        await using var connection = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(TestTimeout.Value);
        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                failed.TrySetResult();
            }
        };
        connection.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive && failed.Task.IsCompleted)
            {
                restored.TrySetResult();
            }
        };
        using var cache = new RedisNonceCache(connection, new RedisNonceCacheOptions { TimeProvider = _clock });
        Assert.True(cache.TryRecord(Agent.PublicKey.Text, Nonce(), InFiveMinutes));

        await redis.StopAsync();
        await failed.Task.WaitAsync(TestTimeout.Value);
        Assert.Throws<NonceCacheUnavailableException>(() => cache.TryRecord(Agent.PublicKey.Text, Nonce(), InFiveMinutes));
        await redis.RestartAsync();
        await restored.Task.WaitAsync(TestTimeout.Value);

        var nonce = Nonce();
        Assert.True(cache.TryRecord(Agent.PublicKey.Text, nonce, InFiveMinutes));
        Assert.False(cache.TryRecord(Agent.PublicKey.Text, nonce, InFiveMinutes));
    }
}
