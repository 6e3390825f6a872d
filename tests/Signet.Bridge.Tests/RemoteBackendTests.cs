using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Mcp.Tests.Interop;

namespace Signet.Bridge.Tests;

/// <summary>A url backend: the bridge in front of server-everything's own Streamable HTTP transport, signing on the way.</summary>
public sealed class RemoteBackendTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task UrlBackend_CallsThroughBridge_ForwardedAndRecorded()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var info = new ProcessStartInfo(NpmPeers.Node) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(NpmPeers.ServerEverything);
        info.ArgumentList.Add("streamableHttp");
        info.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var server = Process.Start(info)!;
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(async () =>
        {
            while (await server.StandardError.ReadLineAsync() is { } line)
            {
                if (line.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
                {
                    listening.TrySetResult();
                }
            }
        });
        _ = Task.Run(async () =>
        {
            while (await server.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
                {
                    listening.TrySetResult();
                }
            }
        });
        try
        {
            await listening.Task.WaitAsync(Timeout);
            await using var bridge = await BridgeHarness.StartAsync(o => o.Backends[0] = new BridgeBackendOptions
            {
                Name = "default",
                Url = $"http://127.0.0.1:{port}/mcp",
            });
            await using var client = await bridge.ConnectAsync();
            Assert.NotNull(client.SessionId);
            var result = await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 40, ["b"] = 2 }).AsTask().WaitAsync(Timeout);
            Assert.Contains("42", string.Join("", result.Content.OfType<TextContentBlock>().Select(c => c.Text)), StringComparison.Ordinal);
            var request = Assert.Single(bridge.Recorder.Requests);
            Assert.Equal(("get-sum", client.SessionId), (request.Tool, request.SessionId));
            Assert.Single(bridge.Recorder.Responses);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync().WaitAsync(Timeout);
        }
    }
}
