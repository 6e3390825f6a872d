using System.Diagnostics;
using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using Signet.Mcp.Tests.Interop;

namespace Signet.Mcp.Tests.Demo;

/// <summary>The demo server's handshakes and its stdout discipline, each on a fresh child process.</summary>
public sealed class DemoServerProtocolTests
{
    [Fact]
    public async Task Connect_UnpinnedClient_NegotiatesServerDiscover20260728()
    {
        using var timeout = new CancellationTokenSource(ProcessRunner.DefaultTimeout);
        // The probe is the first message, so it also waits for the child's cold start; the SDK's default 5 s is too
        // short on a loaded machine and the client then falls back to initialize.
        var options = new McpClientOptions { DiscoverProbeTimeout = ProcessRunner.DefaultTimeout };
        await using var client = await McpClient.CreateAsync(new StdioClientTransport(SignetExecutable.DemoServer()), options, cancellationToken: timeout.Token);

        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.Equal("signet-demo", client.ServerInfo?.Name);
        Assert.NotNull(client.ServerCapabilities.Tools);
        Assert.Contains(await client.ListToolsAsync(cancellationToken: timeout.Token), t => t.Name == "count");
    }

    [Fact]
    public async Task Connect_Pinned20251125_NegotiatesInitialize()
    {
        using var timeout = new CancellationTokenSource(ProcessRunner.DefaultTimeout);
        var options = new McpClientOptions { ProtocolVersion = "2025-11-25" };
        await using var client = await McpClient.CreateAsync(new StdioClientTransport(SignetExecutable.DemoServer()), options, cancellationToken: timeout.Token);

        Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
        Assert.NotNull(client.ServerCapabilities.Resources);
        Assert.NotNull(client.ServerCapabilities.Prompts);
        var result = await client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: timeout.Token);
        Assert.Equal(3, result.StructuredContent!.Value.GetProperty("sum").GetDouble());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stdout_RawSession_CarriesOnlyJsonRpcAndExitsZeroOnEof(bool verbose)
    {
        const string Payload = "payload-marker-7f3a";
        using var timeout = new CancellationTokenSource(ProcessRunner.DefaultTimeout);
        var (fileName, arguments) = verbose ? SignetExecutable.Command("demo-server", "--verbose") : SignetExecutable.Command("demo-server");
        var start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            string[] requests =
            [
                """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""",
                """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
                """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"count","arguments":{"to":2},"_meta":{"progressToken":"t"}}}""",
                """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"PAYLOAD"}}}""".Replace("PAYLOAD", Payload, StringComparison.Ordinal),
            ];
            foreach (var request in requests)
            {
                await process.StandardInput.WriteLineAsync(request.AsMemory(), timeout.Token);
            }
            await process.StandardInput.FlushAsync(timeout.Token);

            var lines = new List<JsonObject>();
            while (!(lines.Any(l => l["id"]?.GetValue<int>() == 2) && lines.Any(l => l["id"]?.GetValue<int>() == 3)))
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new Xunit.Sdk.XunitException($"stdout ended early; stderr: {await stderr}");
                lines.Add(Assert.IsType<JsonObject>(JsonNode.Parse(line)));
            }
            process.StandardInput.Close();
            await process.WaitForExitAsync(timeout.Token);

            Assert.Equal(0, process.ExitCode);
            Assert.Equal(string.Empty, await process.StandardOutput.ReadToEndAsync(timeout.Token));
            Assert.All(lines, l => Assert.Equal("2.0", l["jsonrpc"]!.GetValue<string>()));
            Assert.Equal(2, lines.Count(l => l["method"]?.GetValue<string>() == "notifications/progress"));
            Assert.Equal("2025-11-25", lines.Single(l => l["id"]?.GetValue<int>() == 1)["result"]!["protocolVersion"]!.GetValue<string>());
            Assert.Equal(Payload, lines.Single(l => l["id"]?.GetValue<int>() == 3)["result"]!["content"]![0]!["text"]!.GetValue<string>());
            var log = await stderr;
            Assert.Contains("serving MCP on stdio", log, StringComparison.Ordinal);
            Assert.Contains("tools/call echo", log, StringComparison.Ordinal);
            // Arguments are payloads: logged only at the verbose (trace) level.
            Assert.Equal(verbose, log.Contains(Payload, StringComparison.Ordinal));
        }
        finally
        {
            ProcessRunner.KillTree(process);
        }
    }
}
