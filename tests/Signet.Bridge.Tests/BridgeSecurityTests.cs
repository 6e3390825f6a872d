using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Signet.Bridge.Tests;

/// <summary>The door: bearer token, Host and Origin, health endpoint, request limits.</summary>
public sealed class BridgeSecurityTests
{
    private const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""";

    private static HttpRequestMessage Post(Uri url, string? token, string body = Initialize)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token-0123456789abcdef")]
    [InlineData("test-token-0123456789abcdeF")]
    public async Task Post_MissingOrWrongToken_Returns401WithChallenge(string? token)
    {
        await using var bridge = await BridgeHarness.StartAsync();
        using var http = new HttpClient();
        using var response = await http.SendAsync(Post(bridge.Url, token));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer realm=\"signet\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Empty(bridge.Server.Sessions.Sessions);
    }

    [Fact]
    public async Task Post_ForeignOrigin_Returns403()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        using var http = new HttpClient();
        var request = Post(bridge.Url, BridgeHarness.Token);
        request.Headers.Add("Origin", "http://evil.example.com");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(bridge.Server.Sessions.Sessions);
    }

    [Fact]
    public async Task Post_ForeignHost_Returns403()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        using var http = new HttpClient();
        var request = Post(bridge.Url, BridgeHarness.Token);
        request.Headers.Host = "evil.example.com";
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Post_LoopbackOriginAndConfiguredPublicHost_Accepted()
    {
        await using var bridge = await BridgeHarness.StartAsync(o => o.PublicUrl = "https://tools.example.net");
        using var http = new HttpClient();
        var request = Post(new Uri(bridge.Server.Addresses[0], "/mcp"), BridgeHarness.Token);
        request.Headers.Host = "tools.example.net";
        request.Headers.Add("Origin", "http://localhost:1234");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("Mcp-Session-Id"));
        Assert.Equal(new Uri("https://tools.example.net/mcp"), bridge.Url);
    }

    [Fact]
    public async Task Healthz_WithoutToken_ReturnsOkOnly()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        using var http = new HttpClient();
        Assert.Equal("ok", await http.GetStringAsync(new Uri(bridge.Url, "/healthz")));
    }

    [Fact]
    public async Task Post_BodyOverLimit_Returns413()
    {
        await using var bridge = await BridgeHarness.StartAsync(o => o.Limits.MaxRequestBodyBytes = 2048);
        using var http = new HttpClient();
        var big = Initialize.Replace("\"t\"", "\"" + new string('x', 4096) + "\"", StringComparison.Ordinal);
        using var response = await http.SendAsync(Post(bridge.Url, BridgeHarness.Token, big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Post_UnknownSession_Returns404()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        using var http = new HttpClient();
        var request = Post(bridge.Url, BridgeHarness.Token, """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
        request.Headers.Add("Mcp-Session-Id", "0123456789abcdef0123456789abcdef");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public void Validate_AuthDisabledOnPublicAddress_Throws()
    {
        var options = new BridgeOptions
        {
            Listen = { "0.0.0.0:8787" },
            DisableAuthenticationOnLoopback = true,
            Backends = { BridgeHarness.EverythingBackend("default") },
        };
        var error = Assert.Throws<SignetException>(() => BridgeConfig.Validate(options));
        Assert.Contains("loopback", error.Message, StringComparison.Ordinal);
    }
}
