using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Signet.Keys;
using Signet.Mcp.Server;

namespace Signet.Mcp.Redis.Tests;

/// <summary>The Redis snippet of docs/library.md: it lives here so it compiles and stays in the page verbatim.</summary>
public sealed class RedisDocTests
{
    #region redis
    static IMcpServerBuilder AddSignetBehindALoadBalancer(IMcpServerBuilder mcp, PublicKey agentKey) => mcp
        .WithSignetReceiptVerification(o => o.TrustedAgentKeys = [agentKey])
        .WithSignetRedisNonceCache(o => o.Configuration = "redis.internal:6379,password=…,ssl=true");
    #endregion

    private static string RepoFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
            {
                return Path.Combine([dir.FullName, .. parts]);
            }
        }
        throw new InvalidOperationException("repository root not found");
    }

    [Fact]
    public void LibraryDoc_RedisSnippet_AppearsVerbatim()
    {
        var source = File.ReadAllText(RepoFile("tests", "Signet.Mcp.Redis.Tests", "RedisDocTests.cs")).ReplaceLineEndings("\n");
        var start = source.IndexOf("#region redis\n", StringComparison.Ordinal) + "#region redis\n".Length;
        var end = source.IndexOf("    #endregion", start, StringComparison.Ordinal);
        var snippet = string.Join('\n', source[start..end].TrimEnd('\n').Split('\n').Select(l => l.Length >= 4 ? l[4..] : l.TrimStart()));

        Assert.Contains("```csharp\n" + snippet + "\n```", File.ReadAllText(RepoFile("docs", "library.md")).ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void LibraryDoc_RedisSnippet_MakesTheRedisCacheTheVerifiersNonceCache()
    {
        var services = new ServiceCollection();
        using var agent = SigningKey.Generate();

        AddSignetBehindALoadBalancer(services.AddMcpServer(), agent.PublicKey);
        using var provider = services.BuildServiceProvider();

        var descriptor = Assert.Single(services, d => d.ServiceType == typeof(INonceCache));
        Assert.NotNull(descriptor.ImplementationFactory);
        Assert.Equal("redis.internal:6379,password=…,ssl=true", provider.GetRequiredService<IOptions<RedisNonceCacheOptions>>().Value.Configuration);
    }
}
