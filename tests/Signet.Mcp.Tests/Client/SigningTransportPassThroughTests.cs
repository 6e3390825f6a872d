using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Mcp.Client;

namespace Signet.Mcp.Tests.Client;

public sealed class SigningTransportPassThroughTests
{
    [Fact]
    public async Task SendMessageAsync_NonToolCallTraffic_ReachesTheWireUntouched()
    {
        await using var server = InProcessServer.Start();
        var seen = new List<(string Method, string? Params)>();
        var capture = new CapturingTransport(server.ClientTransport(), m =>
        {
            if (m is JsonRpcRequest r)
            {
                lock (seen)
                {
                    seen.Add((r.Method, r.Params?.ToJsonString()));
                }
            }
        });
        var sink = new MemorySink();
        await using var client = await McpClient.CreateAsync(new SigningTransport(capture, new SignetOptions
        {
            Key = TestKeys.Agent, SignerName = "agent", AuditLog = sink, Target = "mcp://in-process",
        }), ClientExtensions.Protocol("2025-11-25")).WaitAsync(TimeSpan.FromSeconds(60));

        var tools = await client.ListToolsAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        await client.PingAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Contains(tools, t => t.Name == "echo");
        Assert.All(seen.Where(s => s.Method != RequestMethods.ToolsCall), s =>
            Assert.DoesNotContain("dev.signet", s.Params ?? "", StringComparison.Ordinal));
        Assert.Contains(seen, s => s.Method == RequestMethods.Initialize);
        Assert.Contains(seen, s => s.Method == RequestMethods.ToolsList);
        Assert.Contains(seen, s => s.Method == RequestMethods.Ping);
        var call = JsonNode.Parse(seen.Single(s => s.Method == RequestMethods.ToolsCall).Params!)!;
        Assert.Equal(sink.OfVersion(1).Single().Id, call["_meta"]![SignetMetaKeys.Receipt]!["id"]!.GetValue<string>());
        Assert.Equal([1, 2], sink.Receipts.Select(r => r.Version));
    }

    /// <summary>Observes what the signing transport hands to the wire.</summary>
    private sealed class CapturingTransport(IClientTransport inner, Action<JsonRpcMessage> seen) : IClientTransport
    {
        public string Name => inner.Name;

        public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
            new Session(await inner.ConnectAsync(cancellationToken), seen);

        private sealed class Session(ITransport inner, Action<JsonRpcMessage> seen) : ITransport
        {
            public string? SessionId => inner.SessionId;

            public System.Threading.Channels.ChannelReader<JsonRpcMessage> MessageReader => inner.MessageReader;

            public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
            {
                seen(message);
                return inner.SendMessageAsync(message, cancellationToken);
            }

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
