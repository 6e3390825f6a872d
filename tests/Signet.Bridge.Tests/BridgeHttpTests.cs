using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

// Roots and logging are deprecated in 2026-07-28 but are what initialize-era servers such as server-everything use.
#pragma warning disable MCP9005

namespace Signet.Bridge.Tests;

/// <summary>Streamable HTTP details: server-to-client traffic, JSON-only clients, TLS through Kestrel's configuration.</summary>
public sealed class BridgeHttpTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ServerToClient_RootsRequestAndLogNotification_ReachTheClient()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        var rootsAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var logged = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = bridge.Url,
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + BridgeHarness.Token },
        });
        var options = new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                // server-everything asks for the roots shortly after initialization: a server-to-client request.
                RootsHandler = (_, _) =>
                {
                    rootsAsked.TrySetResult();
                    return ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///tmp", Name = "tmp" }] });
                },
            },
        };
        await using var client = await McpClient.CreateAsync(transport, options).WaitAsync(Timeout);
        await using var registration = client.RegisterNotificationHandler(NotificationMethods.LoggingMessageNotification, (n, _) =>
        {
            logged.TrySetResult(n.Params?.ToJsonString() ?? "");
            return ValueTask.CompletedTask;
        });
        await rootsAsked.Task.WaitAsync(Timeout);
        await client.CallToolAsync("toggle-simulated-logging");
        Assert.Contains("level", await logged.Task.WaitAsync(Timeout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonOnlyClient_Call_AnsweredWithJsonBody()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        using var http = new HttpClient();
        HttpRequestMessage Post(string body, string? session)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, bridge.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BridgeHarness.Token);
            if (session is not null)
            {
                request.Headers.Add("Mcp-Session-Id", session);
                request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
            }
            return request;
        }
        using var init = await http.SendAsync(Post("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""", null));
        Assert.Equal("application/json", init.Content.Headers.ContentType?.MediaType);
        var session = init.Headers.GetValues("Mcp-Session-Id").Single();
        Assert.Equal("2025-11-25", JsonNode.Parse(await init.Content.ReadAsStringAsync())!["result"]!["protocolVersion"]!.GetValue<string>());
        using var initialized = await http.SendAsync(Post("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", session));
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        using var call = await http.SendAsync(Post("""{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"get-sum","arguments":{"a":20,"b":22}}}""", session));
        var answer = JsonNode.Parse(await call.Content.ReadAsStringAsync())!;
        Assert.Equal("c1", answer["id"]!.GetValue<string>());
        Assert.Contains("42", answer["result"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(("s:c1", session), bridge.Recorder.Requests.Select(r => (r.CallId, r.SessionId)).Single());
        using var delete = new HttpRequestMessage(HttpMethod.Delete, bridge.Url);
        delete.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BridgeHarness.Token);
        delete.Headers.Add("Mcp-Session-Id", session);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(delete)).StatusCode);
        using var after = await http.SendAsync(Post("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""", session));
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task Https_DefaultCertificateFromKestrelConfiguration_ServesMcp()
    {
        var dir = Directory.CreateTempSubdirectory("signet-bridge-tls-").FullName;
        try
        {
            using var rsa = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var pfx = Path.Combine(dir, "tls.pfx");
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "pw"));
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Kestrel:Certificates:Default:Path"] = pfx,
                ["Kestrel:Certificates:Default:Password"] = "pw",
            }).Build();
            var recorder = new TestRecorder();
            var options = new BridgeOptions
            {
                Listen = { "https://127.0.0.1:0" },
                Token = BridgeHarness.Token,
                Backends = { BridgeHarness.EverythingBackend("default") },
            };
            await using var server = BridgeServer.Create(options, _ => recorder, NullLoggerFactory.Instance, configuration);
            await server.StartAsync();
            Assert.Equal("https", server.Endpoints[0].Url.Scheme);
            var thumbprint = certificate.Thumbprint;
            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == thumbprint };
            using var http = new HttpClient(handler);
            var transport = new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = server.Endpoints[0].Url,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + BridgeHarness.Token },
            }, http);
            await using var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = "2025-11-25" }).WaitAsync(Timeout);
            var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "over tls" });
            Assert.Contains("over tls", string.Join("", result.Content.OfType<TextContentBlock>().Select(c => c.Text)), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
