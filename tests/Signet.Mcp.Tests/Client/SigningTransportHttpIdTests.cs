using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Mcp.Client;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Mcp.Tests.Client;

/// <summary>SigningTransport over the SDK's Streamable HTTP transport, against a server that echoes ids in its own form.</summary>
public sealed class SigningTransportHttpIdTests
{
    [Fact]
    public async Task SendMessageAsync_ServerEchoesIdAsANearbyDouble_AnsweredUnderTheIdSentAndRecorded()
    {
        using var server = new RecordingServer();
        var (process, endpoint) = await server.StartHttpAsync();
        try
        {
            var sink = new MemorySink();
            var signing = new SigningTransport(
                new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp }),
                new SignetOptions { Key = TestKeys.Agent, SignerName = "test-agent", AuditLog = sink });
            await using var transport = await signing.ConnectAsync().WaitAsync(TestTimeout.Value);
            const long sent = 9007199254740993; // 2^53+1: a JavaScript server reads it, and answers it, as 2^53

            await transport.SendMessageAsync(new JsonRpcRequest
            {
                Id = new RequestId(sent),
                Method = RequestMethods.ToolsCall,
                Params = new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["a"] = 1 } },
            }).WaitAsync(TestTimeout.Value);

            var answer = Assert.IsType<JsonRpcResponse>(await transport.MessageReader.ReadAsync().AsTask().WaitAsync(TestTimeout.Value));
            Assert.Equal(new RequestId(sent), answer.Id);
            Assert.Single(sink.OfVersion(1));
            Assert.Equal("n:9007199254740993", (string?)Assert.Single(sink.OfVersion(2)).Json["action"]!["call_id"]);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }
}
