using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Keys;
using Signet.Mcp;

namespace Signet.Bridge.Tests;

/// <summary>A bridge with the real recorder and audit log in front of one backend, driven with raw HTTP requests.</summary>
internal sealed class RawBridge : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient http = new() { Timeout = Timeout };

    private RawBridge(BridgeServer server, BridgeRecording recording, string home)
    {
        Server = server;
        Recording = recording;
        Home = home;
    }

    public BridgeServer Server { get; }

    public BridgeRecording Recording { get; }

    public string Home { get; }

    public Uri Url => Server.Endpoints[0].Url;

    public string? SessionId { get; private set; }

    public string AuditDirectory => SignetHome.AuditDirectory(Home);

    public static async Task<RawBridge> StartAsync(string home, BridgeBackendOptions backend, Microsoft.Extensions.Logging.ILoggerFactory logs,
        Action<BridgeOptions>? configure = null, TimeProvider? recordingTime = null)
    {
        if (!KeyStore.ForHome(home).Exists("agent"))
        {
            KeyStore.ForHome(home).CreateUnencrypted("agent");
        }
        var recording = BridgeRecording.Open(home, "agent", PassphraseSource.None, logs, recordingTime);
        var options = new BridgeOptions { Listen = { "127.0.0.1:0" }, Token = BridgeHarness.Token, Backends = { backend } };
        configure?.Invoke(options);
        var server = BridgeServer.Create(options, recording.CreateRecorder, logs);
        await server.StartAsync();
        return new RawBridge(server, recording, home);
    }

    /// <summary>Opens a session (initialize, then notifications/initialized).</summary>
    public async Task InitializeAsync()
    {
        var (status, _, headers) = await PostAsync("""{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        SessionId = headers.GetValues("Mcp-Session-Id").Single();
        var (initialized, _, _) = await PostAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        Assert.Equal(HttpStatusCode.Accepted, initialized);
    }

    public Task<(HttpStatusCode Status, string Body, HttpResponseHeaders Headers)> PostAsync(string body) => PostAsync(Encoding.UTF8.GetBytes(body));

    public async Task<(HttpStatusCode Status, string Body, HttpResponseHeaders Headers)> PostAsync(byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Server.Addresses[0], Url.AbsolutePath)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BridgeHarness.Token);
        if (SessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", SessionId);
            request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        }
        using var response = await http.SendAsync(request).WaitAsync(Timeout);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers);
    }

    /// <summary>Sends a request with raw header lines over a socket and returns the status code and the body.</summary>
    public async Task<(int Status, string Response)> SendRawAsync(string requestLineAndHeaders, byte[] body)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(Server.Addresses[0].Host, Server.Addresses[0].Port).WaitAsync(Timeout);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requestLineAndHeaders + $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
        await stream.WriteAsync(body);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync().WaitAsync(Timeout);
        return (int.Parse(text.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), text);
    }

    /// <summary>The receipts in the audit log, after the bridge has stopped.</summary>
    public List<JsonObject> Receipts() => AuditQuery.Read(AuditDirectory).Select(e => e.Receipt).ToList();

    /// <summary>Checks that every tools/call the backend received carries a receipt.</summary>
    public static void AssertEveryCallSigned(IEnumerable<byte[]> received)
    {
        foreach (var line in received)
        {
            var text = Encoding.UTF8.GetString(line);
            if (!text.Contains("tools/call", StringComparison.Ordinal) && !text.Contains("tools\\/call", StringComparison.Ordinal))
            {
                continue;
            }
            var node = JsonNode.Parse(line);
            foreach (var message in node is JsonArray batch ? batch.ToList() : [node])
            {
                if (message is JsonObject o && (string?)o["method"] == "tools/call")
                {
                    Assert.True(o["params"]?["_meta"]?[SignetMetaKeys.Receipt] is JsonObject, "an unsigned tools/call reached the backend: " + text);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Recording.DisposeAsync();
        http.Dispose();
    }
}
