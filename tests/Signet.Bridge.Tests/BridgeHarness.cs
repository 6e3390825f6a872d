using Signet.Mcp.Tests.Interop;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Client;

namespace Signet.Bridge.Tests;

/// <summary>A running bridge in front of server-everything (stdio), with helpers to connect real MCP clients.</summary>
internal sealed class BridgeHarness : IAsyncDisposable
{
    public const string Token = "test-token-0123456789abcdef";

    private BridgeHarness(BridgeServer server, TestRecorder recorder)
    {
        Server = server;
        Recorder = recorder;
    }

    public BridgeServer Server { get; }

    public TestRecorder Recorder { get; }

    public Uri Url => Server.Endpoints[0].Url;

    public static async Task<BridgeHarness> StartAsync(Action<BridgeOptions>? configure = null, TimeProvider? time = null, TestRecorder? recorder = null)
    {
        var options = new BridgeOptions
        {
            Listen = { "127.0.0.1:0" },
            Token = Token,
            Backends = { EverythingBackend("default") },
        };
        configure?.Invoke(options);
        recorder ??= new TestRecorder();
        var server = BridgeServer.Create(options, _ => recorder, NullLoggerFactory.Instance, time: time);
        await server.StartAsync();
        return new BridgeHarness(server, recorder);
    }

    public static BridgeBackendOptions EverythingBackend(string name) => new()
    {
        Name = name,
        Command = NpmPeers.Node,
        Args = { NpmPeers.ServerEverything, "stdio" },
    };

    public Task<McpClient> ConnectAsync(string? token = Token, string? protocolVersion = "2025-11-25", Uri? url = null)
    {
        var headers = new Dictionary<string, string>();
        if (token is not null)
        {
            headers["Authorization"] = "Bearer " + token;
        }
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = url ?? Url,
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = headers,
        });
        return McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = protocolVersion }).WaitAsync(TimeSpan.FromSeconds(60));
    }

    public static Task<McpClient> ConnectDirectAsync() =>
        McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = NpmPeers.Node,
            Arguments = [NpmPeers.ServerEverything, "stdio"],
        }), new McpClientOptions { ProtocolVersion = "2025-11-25" }).WaitAsync(TimeSpan.FromSeconds(60));

    public static bool ProcessIsGone(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            // A killed orphan stays a zombie until init reaps it: it runs nothing any more, so it counts as gone.
            var stat = "/proc/" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/stat";
            try
            {
                var text = File.ReadAllText(stat);
                return text[(text.LastIndexOf(')') + 2)] is 'Z' or 'X';
            }
            catch (IOException)
            {
                return true;
            }
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
