using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Signet.Audit;
using Signet.Mcp;

namespace Signet.Bridge.Tests;

/// <summary>Failures around a call: an unwritable audit log (fail closed and fail open), unreadable answers, slow or cancelled requests.</summary>
public sealed class BridgeFailureTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private readonly string home = Directory.CreateTempSubdirectory("signet-bridge-failures-").FullName;

    public void Dispose() => Directory.Delete(home, recursive: true);

    /// <summary>A directory where today's audit file must be created: every append fails, as on a read-only or full disk.</summary>
    private void MakeAuditLogUnwritable() =>
        Directory.CreateDirectory(Path.Combine(SignetHome.AuditDirectory(home), Now.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + ".jsonl"));

    [Theory]
    [InlineData("stdio")]
    [InlineData("http")]
    public async Task ToolCall_AuditLogUnwritable_RefusedWithOneWarningLineAndNeverForwarded(string backendKind)
    {
        using var backends = new RecordingBackends();
        var backend = backendKind == "http" ? await backends.StartHttpAsync() : backends.Stdio();
        var logs = new CapturingLoggerFactory();
        await using (var bridge = await RawBridge.StartAsync(home, backend, logs, recordingTime: new FakeTimeProvider(Now)))
        {
            await bridge.InitializeAsync();
            MakeAuditLogUnwritable();
            var (status, body, _) = await bridge.PostAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}""");

            Assert.Equal(HttpStatusCode.OK, status);
            var error = JsonNode.Parse(body)!;
            Assert.Equal(1, (int)error["id"]!);
            Assert.Equal(ToolCallRefusedException.JsonRpcErrorCode, (int)error["error"]!["code"]!);
            var message = (string)error["error"]!["message"]!;
            Assert.Contains("audit log", message, StringComparison.Ordinal);
            Assert.DoesNotContain("..", message, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(backends.Received(), l => Encoding.UTF8.GetString(l).Contains("tools/call", StringComparison.Ordinal));
        var line = Assert.Single(logs.Containing("n:1"));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Null(line.Exception);
        Assert.DoesNotContain("..", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.Level == LogLevel.Critical);
    }

    [Theory]
    [InlineData("stdio")]
    [InlineData("http")]
    public async Task ToolCall_AuditLogUnwritableWithFailOpen_ForwardedUnsignedWithOneCriticalLine(string backendKind)
    {
        using var backends = new RecordingBackends();
        var backend = backendKind == "http" ? await backends.StartHttpAsync() : backends.Stdio();
        var logs = new CapturingLoggerFactory();
        await using (var bridge = await RawBridge.StartAsync(home, backend, logs, o => o.FailOpen = true, new FakeTimeProvider(Now)))
        {
            await bridge.InitializeAsync();
            MakeAuditLogUnwritable();
            var (status, body, _) = await bridge.PostAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}""");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("ran echo", (string)JsonNode.Parse(body)!["result"]!["content"]![0]!["text"]!);

            // A call that cannot be signed at all goes out too, and says so.
            var (_, unnamed, _) = await bridge.PostAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{}}}""");
            Assert.NotNull(JsonNode.Parse(unnamed)!["result"]);
        }
        var calls = backends.Received().Select(l => JsonNode.Parse(l)!).Where(n => (string?)n["method"] == "tools/call").ToList();
        Assert.Equal(2, calls.Count);
        // The first was signed, but its receipt could not be stored: it goes out signed, so its server can still check it.
        Assert.NotNull(calls[0]["params"]!["_meta"]?[SignetMetaKeys.Receipt]);
        Assert.Null(calls[1]["params"]!["_meta"]?[SignetMetaKeys.Receipt]);
        var first = Assert.Single(logs.Entries, e => e.Level == LogLevel.Critical && e.Message.StartsWith("FAIL-OPEN: tools/call n:1", StringComparison.Ordinal));
        Assert.Contains("audit log", first.Message, StringComparison.Ordinal);
        // Its response's receipt cannot be stored either: delivered, with a line of its own.
        Assert.Single(logs.Entries, e => e.Level == LogLevel.Critical && e.Message.StartsWith("FAIL-OPEN: the response to tools/call n:1", StringComparison.Ordinal));
        var second = Assert.Single(logs.Entries, e => e.Level == LogLevel.Critical && e.Message.Contains("n:2", StringComparison.Ordinal));
        Assert.Contains("params.name is missing", second.Message, StringComparison.Ordinal);
        Assert.Equal(3, logs.Entries.Count(e => e.Level == LogLevel.Critical));
    }

    [Fact]
    public async Task ToolCall_BackendAnswersWithInvalidUtf8_ClientGetsAnErrorAndTheSessionGoesOn()
    {
        using var backends = new RecordingBackends();
        var logs = new CapturingLoggerFactory();
        await using var bridge = await RawBridge.StartAsync(home, backends.Stdio(), logs);
        await bridge.InitializeAsync();

        var (status, body, _) = await bridge.PostAsync("""{"jsonrpc":"2.0","id":"bad","method":"tools/call","params":{"name":"bad-utf8"}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var error = JsonNode.Parse(body)!;
        Assert.Equal("bad", (string)error["id"]!);
        Assert.Contains("could not be read", (string)error["error"]!["message"]!, StringComparison.Ordinal);
        var warning = Assert.Single(logs.Entries, e => e.Message.Contains("cannot be read", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("invalid UTF-8", warning.Message, StringComparison.Ordinal);

        var (_, after, _) = await bridge.PostAsync("""{"jsonrpc":"2.0","id":"after","method":"tools/call","params":{"name":"echo"}}""");
        Assert.Equal("ran echo", (string)JsonNode.Parse(after)!["result"]!["content"]![0]!["text"]!);
    }

    [Fact]
    public async Task ToolCall_CancelledByTheClient_TheWaitEndsAndTheSessionIsQuiet()
    {
        using var backends = new RecordingBackends();
        var logs = new CapturingLoggerFactory();
        await using (var bridge = await RawBridge.StartAsync(home, backends.Stdio(), logs))
        {
            await bridge.InitializeAsync();
            var call = bridge.PostAsync("""{"jsonrpc":"2.0","id":"slow-1","method":"tools/call","params":{"name":"slow"}}""");
            var session = Assert.Single(bridge.Server.Sessions.Sessions);
            while (!backends.Received().Any(l => Encoding.UTF8.GetString(l).Contains("slow-1", StringComparison.Ordinal)))
            {
                await Task.Yield();
                Assert.False(call.IsCompleted, "the slow call was answered");
            }
            var (cancelStatus, _, _) = await bridge.PostAsync("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow-1","reason":"user"}}""");
            Assert.Equal(HttpStatusCode.Accepted, cancelStatus);

            var (status, _, _) = await call.WaitAsync(RawBridge.Timeout);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(session.IsQuiet);
        }
        // The cancelled call keeps its request receipt; no response is recorded for it.
        var receipts = AuditQuery.Read(SignetHome.AuditDirectory(home)).Select(e => e.Receipt).ToList();
        Assert.Equal(1, (int)Assert.Single(receipts)["v"]!);
    }

    [Fact]
    public async Task Post_BodyArrivesTooSlowly_408LoggedInOneLineNotAsAnUnhandledException()
    {
        using var backends = new RecordingBackends();
        var logs = new CapturingLoggerFactory();
        await using var bridge = await RawBridge.StartAsync(home, backends.Stdio(), logs);
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(bridge.Server.Addresses[0].Host, bridge.Server.Addresses[0].Port);
        var stream = socket.GetStream();
        // Ten bytes of a 100-byte body, then nothing: Kestrel's minimum data rate ends the read after its grace period.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json\r\nAuthorization: Bearer {BridgeHarness.Token}\r\nContent-Length: 100\r\n\r\n{{\"jsonrpc\""));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync().WaitAsync(RawBridge.Timeout);
        Assert.StartsWith("HTTP/1.1 408", statusLine, StringComparison.Ordinal);

        var refused = Assert.Single(logs.Entries, e => e.Category == "Signet.Bridge" && e.Message.Contains("408", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, refused.Level);
        Assert.Null(refused.Exception);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("nhandled", StringComparison.Ordinal) || e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Post_BodyOverLimit_413LoggedInOneLineWithTheIdReadFromTheBodysStart()
    {
        using var backends = new RecordingBackends();
        var logs = new CapturingLoggerFactory();
        await using var bridge = await RawBridge.StartAsync(home, backends.Stdio(), logs, o => o.Limits.MaxRequestBodyBytes = 1024);
        await bridge.InitializeAsync();
        var (status, body, _) = await bridge.PostAsync(
            "{\"jsonrpc\":\"2.0\",\"id\":\"big\",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"s\":\"" + new string('x', 1_000_000) + "\"}}}");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("big", (string)JsonNode.Parse(body)!["id"]!);
        var refused = Assert.Single(logs.Entries, e => e.Category == "Signet.Bridge" && e.Message.Contains("413", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, refused.Level);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("nhandled", StringComparison.Ordinal) || e.Level >= LogLevel.Error);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ToolCallResponse_ReceiptRefused_WithheldOrDeliveredWithOneCriticalLine(bool failOpen)
    {
        using var backends = new RecordingBackends();
        var logs = new CapturingLoggerFactory();
        var recorder = new TestRecorder { RefuseResponses = true };
        var options = new BridgeOptions { Listen = { "127.0.0.1:0" }, Token = BridgeHarness.Token, Backends = { backends.Stdio() }, FailOpen = failOpen };
        // A recorder factory makes its recorder from the settings it is given: the failure mode is one of them.
        await using var server = BridgeServer.Create(options, target => { recorder.Options = target.Settings; return recorder; }, logs);
        await server.StartAsync();
        using var http = new HttpClient();
        async Task<(HttpResponseMessage Response, JsonNode? Body)> PostAsync(string body, string? session)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, server.Endpoints[0].Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", BridgeHarness.Token);
            if (session is not null)
            {
                request.Headers.Add("Mcp-Session-Id", session);
            }
            var response = await http.SendAsync(request).WaitAsync(RawBridge.Timeout);
            var text = await response.Content.ReadAsStringAsync();
            return (response, text.Length > 0 ? JsonNode.Parse(text) : null);
        }
        var (init, _) = await PostAsync("""{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""", null);
        var session = init.Headers.GetValues("Mcp-Session-Id").Single();

        var (_, answer) = await PostAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}""", session);

        var critical = logs.Entries.Where(e => e.Level == LogLevel.Critical).ToList();
        if (failOpen)
        {
            Assert.Equal("ran echo", (string)answer!["result"]!["content"]![0]!["text"]!);
            Assert.StartsWith("FAIL-OPEN: the response to tools/call n:1", Assert.Single(critical).Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(ToolCallRefusedException.JsonRpcErrorCode, (int)answer!["error"]!["code"]!);
            Assert.Equal(1, (int)answer["id"]!);
            Assert.Empty(critical);
        }
    }
}
