using System.IO.Pipelines;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Cli.Proxy;
using Signet.Mcp;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Cli.Tests.Proxy;

/// <summary>stdio client → <see cref="HttpBackendProxy"/> → the real server-everything over Streamable HTTP.</summary>
public sealed class HttpBackendProxyTests
{
    private static readonly McpClientOptions ClientOptions = new() { ProtocolVersion = "2025-11-25" };

    [Fact]
    public async Task RunAsync_ServerEverythingOverHttp_CallsReturnWhatTheyReturnDirectlyAndAreRecorded()
    {
        var (server, endpoint) = await HttpServerEverything.StartAsync();
        try
        {
            var recorder = new RecorderDouble();
            var clientToProxy = new Pipe();
            var proxyToClient = new Pipe();
            var proxy = HttpBackendProxy.RunAsync(new HttpBackendProxyOptions { Endpoint = endpoint }, recorder, clientToProxy.Reader.AsStream(), proxyToClient.Writer.AsStream());

            CallToolResult viaProxy;
            CallToolResult sumViaProxy;
            await using (var client = await McpClient.CreateAsync(
                new StreamClientTransport(clientToProxy.Writer.AsStream(), proxyToClient.Reader.AsStream()), ClientOptions).WaitAsync(PipeHarness.Timeout))
            {
                viaProxy = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hé <&> 😀" }).AsTask().WaitAsync(PipeHarness.Timeout);
                sumViaProxy = await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40 }).AsTask().WaitAsync(PipeHarness.Timeout);
                Assert.Contains((await client.ListToolsAsync()).Select(t => t.Name), n => n == "echo");
            }
            await clientToProxy.Writer.CompleteAsync();
            Assert.Equal(0, await proxy.WaitAsync(PipeHarness.Timeout));

            CallToolResult direct;
            CallToolResult sumDirect;
            await using (var client = await McpClient.CreateAsync(
                new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp }), ClientOptions).WaitAsync(PipeHarness.Timeout))
            {
                direct = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hé <&> 😀" }).AsTask().WaitAsync(PipeHarness.Timeout);
                sumDirect = await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40 }).AsTask().WaitAsync(PipeHarness.Timeout);
            }

            Assert.Equal(Text(direct), Text(viaProxy));
            Assert.Equal(Text(sumDirect), Text(sumViaProxy));
            Assert.Equal("Echo: hé <&> 😀", Text(viaProxy));
            Assert.Equal(2, recorder.Requests.Count);
            Assert.Equal(2, recorder.Responses.Count);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            server.Dispose();
        }
    }

    [Fact]
    public async Task RunAsync_RefusingRecorder_ClientGetsErrorAndCallIsNotSent()
    {
        var (server, endpoint) = await HttpServerEverything.StartAsync();
        try
        {
            var recorder = new RecorderDouble { RefuseRequests = "the key is locked" };
            var clientToProxy = new Pipe();
            var proxyToClient = new Pipe();
            var proxy = HttpBackendProxy.RunAsync(new HttpBackendProxyOptions { Endpoint = endpoint }, recorder, clientToProxy.Reader.AsStream(), proxyToClient.Writer.AsStream());
            await using (var client = await McpClient.CreateAsync(
                new StreamClientTransport(clientToProxy.Writer.AsStream(), proxyToClient.Reader.AsStream()), ClientOptions).WaitAsync(PipeHarness.Timeout))
            {
                var error = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(
                    () => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask().WaitAsync(PipeHarness.Timeout));
                Assert.Contains("signet: the key is locked", error.Message, StringComparison.Ordinal);
            }
            await clientToProxy.Writer.CompleteAsync();
            Assert.Equal(0, await proxy.WaitAsync(PipeHarness.Timeout));
            Assert.Empty(recorder.Responses);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            server.Dispose();
        }
    }

    [Fact]
    public async Task RunAsync_FailOpenUnreadableCall_RefusedAndLoggedAsARefusalNotAsFailOpen()
    {
        var (server, endpoint) = await HttpServerEverything.StartAsync();
        try
        {
            var logs = new CapturingLogs();
            var recorder = new RecorderDouble { Options = DoubleCalls.Options(failOpen: true) };
            var clientToProxy = new Pipe();
            var proxyToClient = new Pipe();
            var proxy = HttpBackendProxy.RunAsync(new HttpBackendProxyOptions { Endpoint = endpoint }, recorder, clientToProxy.Reader.AsStream(), proxyToClient.Writer.AsStream(), logs);
            // Duplicate keys: not strict JSON, so it cannot be signed, and over HTTP it cannot be posted unread either.
            await clientToProxy.Writer.WriteAsync(System.Text.Encoding.UTF8.GetBytes(
                "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n"));
            using var reader = new StreamReader(proxyToClient.Reader.AsStream());
            var answer = System.Text.Json.Nodes.JsonNode.Parse((await reader.ReadLineAsync().WaitAsync(PipeHarness.Timeout))!)!;
            await clientToProxy.Writer.CompleteAsync();
            Assert.Equal(0, await proxy.WaitAsync(PipeHarness.Timeout));

            Assert.Equal(4, (int)answer["id"]!);
            Assert.Equal(-32099, (int)answer["error"]!["code"]!);
            Assert.Empty(logs.At(Microsoft.Extensions.Logging.LogLevel.Critical));
            Assert.Contains(logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("refused tools/call 4", StringComparison.Ordinal));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            server.Dispose();
        }
    }

    [Fact]
    public async Task RunAsync_ConcurrentCallsWithOneRefused_RecordedTogetherAndEachAnswered()
    {
        var (server, endpoint) = await HttpServerEverything.StartAsync();
        try
        {
            var recorder = new GatedRecorder(expectedRequests: 3, expectedResponses: 2);
            var clientToProxy = new Pipe();
            var proxyToClient = new Pipe();
            var proxy = HttpBackendProxy.RunAsync(new HttpBackendProxyOptions { Endpoint = endpoint }, recorder, clientToProxy.Reader.AsStream(), proxyToClient.Writer.AsStream());
            await using (var client = await McpClient.CreateAsync(
                new StreamClientTransport(clientToProxy.Writer.AsStream(), proxyToClient.Reader.AsStream()), ClientOptions).WaitAsync(PipeHarness.Timeout))
            {
                var calls = new[] { "m1", "m2", "m3" }
                    .Select(m => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = m }).AsTask())
                    .ToArray();

                // All three are being recorded at once; the middle one is refused, the others finish in reverse order.
                await recorder.RequestsInFlight;
                recorder.ReleaseRequest(recorder.CallIdByMessage["m2"], "the key is locked");
                recorder.ReleaseRequest(recorder.CallIdByMessage["m3"]);
                recorder.ReleaseRequest(recorder.CallIdByMessage["m1"]);
                await recorder.ResponsesInFlight;
                recorder.ReleaseResponse(recorder.CallIdByMessage["m3"]);
                recorder.ReleaseResponse(recorder.CallIdByMessage["m1"]);

                Assert.Equal("Echo: m1", Text(await calls[0].WaitAsync(PipeHarness.Timeout)));
                var refused = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => calls[1].WaitAsync(PipeHarness.Timeout));
                Assert.Contains("signet: the key is locked", refused.Message, StringComparison.Ordinal);
                Assert.Equal("Echo: m3", Text(await calls[2].WaitAsync(PipeHarness.Timeout)));
            }
            await clientToProxy.Writer.CompleteAsync();
            Assert.Equal(0, await proxy.WaitAsync(PipeHarness.Timeout));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            server.Dispose();
        }
    }

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));
}
