using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Keys;
using Signet.Mcp.Tests;
using Signet.Receipts;

namespace Signet.Mcp.Redis.Tests;

/// <summary>
/// Two MCP servers as separate processes (tests/Signet.Mcp.Redis.TestServer: the SDK's host with
/// <c>WithSignetReceiptVerification()</c> and <c>WithSignetRedisNonceCache()</c>) behind one redis-server, as two
/// servers behind a load balancer are.
/// </summary>
public sealed class TwoServerProcessesTests
{
    private static async Task<McpClient> StartServerAsync(string name, RedisServer redis, PublicKey agent)
    {
        var server = Path.Combine(AppContext.BaseDirectory, "Signet.Mcp.Redis.TestServer.dll");
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = name,
            Command = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            Arguments = ["exec", server, redis.Configuration, agent.Text],
        });
        return await McpClient.CreateAsync(transport).WaitAsync(TestTimeout.Value);
    }

    private static string Text(CallToolResult result) => string.Join("\n", result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    [Fact]
    public async Task CallTool_ReceiptAcceptedByOneServer_RefusedAsReplayByTheOther()
    {
        await using var redis = await RedisServer.StartAsync();
        using var agent = SigningKey.Generate();
        await using var first = await StartServerAsync("first", redis, agent.PublicKey);
        await using var second = await StartServerAsync("second", redis, agent.PublicKey);

        // One signed call, captured as it went to the first server and sent again, byte for byte, to the second.
        var arguments = new JsonObject { ["message"] = "pay 100" };
        var receipt = new ReceiptSigner(agent, "agent").SignRequest(new ReceiptAction { Tool = "echo", Params = arguments, Target = "mcp://servers" });
        var call = new JsonObject { ["name"] = "echo", ["arguments"] = arguments.DeepClone(), ["_meta"] = new JsonObject { [SignetMetaKeys.Receipt] = receipt.Json.DeepClone() } };
        CallToolRequestParams Params() => call.Deserialize<CallToolRequestParams>(McpJsonUtilities.DefaultOptions)!;

        var accepted = await first.CallToolAsync(Params()).AsTask().WaitAsync(TestTimeout.Value);
        var replayed = await second.CallToolAsync(Params()).AsTask().WaitAsync(TestTimeout.Value);

        Assert.True(accepted.IsError != true, Text(accepted));
        Assert.Equal("Echo: pay 100", Text(accepted));
        Assert.True(replayed.IsError);
        Assert.StartsWith("Signet rejected this call (Replayed):", Text(replayed), StringComparison.Ordinal);
        Assert.Contains(receipt.Id, Text(replayed), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_RedisDown_ServerRefusesNamingRedis()
    {
        await using var redis = await RedisServer.StartAsync();
        using var agent = SigningKey.Generate();
        await using var server = await StartServerAsync("server", redis, agent.PublicKey);
        await redis.StopAsync();

        var arguments = new JsonObject { ["message"] = "hi" };
        var receipt = new ReceiptSigner(agent, "agent").SignRequest(new ReceiptAction { Tool = "echo", Params = arguments, Target = "mcp://servers" });
        var call = new JsonObject { ["name"] = "echo", ["arguments"] = arguments.DeepClone(), ["_meta"] = new JsonObject { [SignetMetaKeys.Receipt] = receipt.Json.DeepClone() } };
        var result = await server.CallToolAsync(call.Deserialize<CallToolRequestParams>(McpJsonUtilities.DefaultOptions)!).AsTask().WaitAsync(TestTimeout.Value);

        Assert.True(result.IsError);
        Assert.StartsWith("Signet rejected this call (NonceCacheUnavailable):", Text(result), StringComparison.Ordinal);
        Assert.Contains($"Redis (127.0.0.1:{redis.Port})", Text(result), StringComparison.Ordinal);
    }
}
