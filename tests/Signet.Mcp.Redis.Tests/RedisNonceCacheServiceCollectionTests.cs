using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Signet.Mcp.Server;
using StackExchange.Redis;

namespace Signet.Mcp.Redis.Tests;

/// <summary><c>services.AddSignetRedisNonceCache(…)</c> on a real service container.</summary>
public sealed class RedisNonceCacheServiceCollectionTests
{
    [Fact]
    public void AddSignetRedisNonceCache_NoConfigurationNorConnection_FailsAtStartNamingBoth()
    {
        var services = new ServiceCollection().AddSignetRedisNonceCache();
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("RedisNonceCacheOptions.Configuration is not set and the container has no IConnectionMultiplexer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddSignetRedisNonceCache_HostsConnection_IsTheNonceCacheAndLeftOpen()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration).WaitAsync(Signet.Mcp.Tests.TestTimeout.Value);
        var services = new ServiceCollection()
            .AddSingleton<IConnectionMultiplexer>(connection)
            .AddSignetRedisNonceCache(o => o.KeyPrefix = "app1:nonce:");
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var nonces = provider.GetRequiredService<INonceCache>();
        Assert.IsType<RedisNonceCache>(nonces);
        Assert.True(await nonces.TryRecordAsync("ed25519:key", "rnd_1", TimeProvider.System.GetUtcNow().AddMinutes(1)));
        await provider.DisposeAsync();

        Assert.True(connection.IsConnected);
        Assert.True(await connection.GetDatabase().KeyExistsAsync("app1:nonce:ed25519:key:rnd_1"));
    }
}
