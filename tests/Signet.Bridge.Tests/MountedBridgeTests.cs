using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Audit;
using Signet.Keys;

namespace Signet.Bridge.Tests;

/// <summary>The bridge mounts in a plain ASP.NET Core app that brings its own Kestrel, authentication and health checks.</summary>
public sealed class MountedBridgeTests : IDisposable
{
    private const string ApiKey = "app-key-0123456789";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string home = Directory.CreateTempSubdirectory("signet-mounted-").FullName;
    private readonly RecordingBackends backends = new();

    public void Dispose()
    {
        backends.Dispose();
        Directory.Delete(home, recursive: true);
    }

    [Fact]
    public async Task MapSignetBridge_PlainAspNetCoreAppWithItsOwnAuth_SignsCallIntoAuditLogAndEnforcesAppAuth()
    {
        var key = KeyStore.ForHome(home).CreateUnencrypted("agent");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddAuthentication(ApiKeyHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null);
        builder.Services.AddAuthorization();
        builder.Services.AddHealthChecks();
        builder.Services.AddSignet().WithKeyFromHome("agent", home, PassphraseSource.None).WithAuditLog();
        // No bridge token: the app's own authorization guards the endpoint (RequireAuthorization below).
        builder.Services.AddSignetBridge(o => o.Backends.Add(backends.Stdio()));
        PublicKey publicKey = key.PublicKey;
        Uri tools;
        await using (var app = builder.Build())
        {
            app.MapHealthChecks("/healthz");
            app.MapSignetBridge("/tools").RequireAuthorization();
            await app.StartAsync().WaitAsync(Timeout);
            var baseUrl = new Uri(app.Urls.First());
            tools = new Uri(baseUrl, "/tools");
            using var http = new HttpClient();

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(baseUrl, "/healthz")).WaitAsync(Timeout)).StatusCode);
            using (var anonymous = new HttpRequestMessage(HttpMethod.Post, tools) { Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}""") })
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(anonymous).WaitAsync(Timeout)).StatusCode);
            }
            Assert.Empty(backends.Received());

            var transport = new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = tools,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { [ApiKeyHandler.Header] = ApiKey },
            });
            await using (var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = "2025-11-25" }).WaitAsync(Timeout))
            {
                var result = await client.CallToolAsync("lookup", new Dictionary<string, object?> { ["q"] = "x" }).AsTask().WaitAsync(Timeout);
                Assert.Equal("ran lookup", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
            }
            await app.StopAsync().WaitAsync(Timeout);
        }

        // Disposing the app's container closed the audit log; the call's receipts verify against the home's key.
        var audit = SignetHome.AuditDirectory(home);
        var verified = AuditVerifier.Verify(audit, new AuditVerifyOptions { VerifySignatures = true, TrustedKeys = [publicKey] });
        Assert.True(verified.IsValid, verified.Break?.Message ?? string.Join("; ", verified.SignatureFailures.Select(f => f.Reason)));
        Assert.Equal(2, verified.RecordCount);
        var receipts = AuditQuery.Read(audit).Select(e => e.Receipt).ToList();
        Assert.All(receipts, r =>
        {
            Assert.Equal(tools.ToString(), r["action"]!["target"]!.GetValue<string>());
            Assert.Equal("http", r["action"]!["transport"]!.GetValue<string>());
        });
        Assert.Equal("lookup", receipts[0]["action"]!["tool"]!.GetValue<string>());
    }

    [Fact]
    public async Task MapSignetBridge_NoTokenAndNoAuthorization_RefusesEveryRequest()
    {
        KeyStore.ForHome(home).CreateUnencrypted("agent");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSignet().WithKeyFromHome("agent", home, PassphraseSource.None).WithAuditLog();
        builder.Services.AddSignetBridge(o => o.Backends.Add(backends.Stdio()));
        await using var app = builder.Build();
        app.MapSignetBridge();
        await app.StartAsync().WaitAsync(Timeout);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(app.Urls.First()), "/mcp"))
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"""),
        };

        var response = await http.SendAsync(request).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(backends.Received());
        await app.StopAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task AddSignetBridge_InvalidOptions_HostStartFailsNamingTheProblem()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSignet(o => { o.Key = SigningKey.Generate(); o.SignerName = "agent"; });
        builder.Services.AddSignetBridge();
        await using var app = builder.Build();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync().WaitAsync(Timeout));

        Assert.Contains("no backends", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The app's own authentication: an API key header, standing in for JWT bearer, cookies or mTLS.</summary>
    private sealed class ApiKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "ApiKey";
        public const string Header = "X-Api-Key";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Request.Headers[Header] == ApiKey
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "agent")], SchemeName)), SchemeName))
                : AuthenticateResult.NoResult());
    }
}
