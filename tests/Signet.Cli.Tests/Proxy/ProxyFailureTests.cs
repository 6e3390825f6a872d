using Signet.Mcp;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using Signet.Audit;
using Signet.Mcp.Client;
using Signet.Cli.Proxy;
using Signet.Mcp.Recording;
using Signet.Receipts;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Cli.Tests.Proxy;

/// <summary>What the proxy does when a message cannot be read or a receipt cannot be kept.</summary>
public sealed class ProxyFailureTests : IDisposable
{
    private const string Call41 = """{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"echo","arguments":{}}}""";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "signet-proxy-failure-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Downstream_ReplyWithInvalidUtf8InId_ForwardedUnchangedWarnedOnceAndCallStaysPending()
    {
        var logs = new CapturingLogs();
        await using var harness = new PipeHarness(new RecorderDouble(), logger: logs.CreateLogger("proxy"));
        await harness.ClientSendsAsync(Call41 + "\n");
        await harness.ServerReceivesLineAsync();
        byte[] unreadable = [.. "{\"jsonrpc\":\"2.0\",\"id\":\"z"u8, 0xFF, .. "\",\"result\":{}}\n"u8];

        await harness.ServerSendsAsync(unreadable);

        Assert.Equal(unreadable, await harness.ClientReceivesBytesAsync(unreadable.Length));
        Assert.Single(logs.At(LogLevel.Warning), m => m.Contains("not valid UTF-8", StringComparison.Ordinal));
        Assert.Equal(1, harness.Engine.PendingCalls);
        await harness.ServerSendsAsync("""{"jsonrpc":"2.0","id":41,"result":{}}""" + "\n");
        Assert.Equal("""{"jsonrpc":"2.0","id":41,"result":{}}""" + "\n", await harness.ClientReceivesLineAsync());
        Assert.Equal("n:41", Assert.Single(harness.Recorder.Responses).CallId);
    }

    [Theory]
    [InlineData("1.0", "1")]
    [InlineData("-0", "0")]
    [InlineData("9007199254740993", "9007199254740992")]
    [InlineData("123456789012345678901234567890", "1.2345678901234568e+29")]
    [InlineData("1.0", "1.0")]
    public async Task Downstream_NumericIdEchoedInAnotherForm_MatchedToItsCallUnderTheSignedLexeme(string sent, string echoed)
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        await harness.ClientSendsAsync(Call41.Replace("\"id\":41", $"\"id\":{sent}", StringComparison.Ordinal) + "\n");
        await harness.ServerReceivesLineAsync();

        await harness.ServerSendsAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{echoed},\"result\":{{}}}}\n");
        await harness.ClientReceivesLineAsync();
        await harness.ServerClosesAsync();
        await harness.Engine.FailPendingAsync("the server exited");

        Assert.Equal("n:" + sent, Assert.Single(harness.Recorder.Responses).CallId);
        Assert.Equal(0, harness.Engine.PendingCalls);
    }

    [Fact]
    public async Task Upstream_LogWriterFailedFailOpen_EachCallForwardedWithOneCriticalFailOpenLine()
    {
        var logs = new CapturingLogs();
        await using var harness = new PipeHarness(await RecorderOverClosedLogAsync(RecordingFailureMode.FailOpen, logs), null, logs.CreateLogger("proxy"));

        await harness.ClientSendsAsync(Call41 + "\n" + Call41.Replace("41", "42", StringComparison.Ordinal) + "\n");

        Assert.Contains("\"id\":41", await harness.ServerReceivesLineAsync(), StringComparison.Ordinal);
        Assert.Contains("\"id\":42", await harness.ServerReceivesLineAsync(), StringComparison.Ordinal);
        var critical = logs.At(LogLevel.Critical);
        Assert.Equal(2, critical.Count);
        Assert.Contains(critical, m => m.StartsWith("FAIL-OPEN: tools/call n:41 (echo)", StringComparison.Ordinal) && m.Contains("the audit log is closed", StringComparison.Ordinal));
        Assert.Contains(critical, m => m.StartsWith("FAIL-OPEN: tools/call n:42 (echo)", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Level == LogLevel.Warning || e.Exception is not null);
    }

    [Fact]
    public async Task Upstream_LogWriterFailedFailClosed_RefusedWithErrorNamingTheCauseAndOneWarningWithoutStackTrace()
    {
        var logs = new CapturingLogs();
        await using var harness = new PipeHarness(await RecorderOverClosedLogAsync(RecordingFailureMode.FailClosed, logs), logger: logs.CreateLogger("proxy"));

        await harness.ClientSendsAsync(Call41 + "\n" + """{"jsonrpc":"2.0","id":1,"method":"ping"}""" + "\n");

        var error = JsonNode.Parse(await harness.ClientReceivesLineAsync())!;
        Assert.Equal(41, (int)error["id"]!);
        Assert.Equal(-32099, (int)error["error"]!["code"]!);
        var message = (string)error["error"]!["message"]!;
        Assert.Contains("could not be written to the audit log: the audit log is closed", message, StringComparison.Ordinal);
        Assert.Contains("Nothing was sent", message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", message, StringComparison.Ordinal);
        Assert.DoesNotContain("..", message, StringComparison.Ordinal);
        Assert.Equal("""{"jsonrpc":"2.0","id":1,"method":"ping"}""" + "\n", await harness.ServerReceivesLineAsync());
        var entry = Assert.Single(logs.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Null(entry.Exception);
        Assert.Contains("the audit log is closed", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_SigningFailsFailOpenWithAnEarlierReceiptInMeta_ForwardedWithoutThatReceipt()
    {
        var sink = new MemorySink();
        var recorder = new ToolCallRecorder(new SignetOptions
        {
            Signer = TestKeys.AgentSigner(), AuditLog = sink, Target = "mcp://t", FailureMode = RecordingFailureMode.FailOpen,
        });
        var earlier = await recorder.RecordRequestAsync(JsonNode.Parse("""{"name":"get-sum","arguments":{"a":1}}""")!.AsObject(), "n:1", null, null);
        await using var harness = new PipeHarness(recorder);
        // A re-send that carries the earlier attempt's receipt, with an argument that cannot be signed (2^53+1).
        var resent = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = 2,
            ["method"] = "tools/call",
            ["params"] = new JsonObject
            {
                ["name"] = "get-sum",
                ["arguments"] = JsonNode.Parse("{\"a\":9007199254740993}"),
                ["_meta"] = new JsonObject { ["progressToken"] = 3, [SignetMetaKeys.Receipt] = earlier.Receipt.Json.DeepClone() },
            },
        };

        await harness.ClientSendsAsync(resent.ToJsonString() + "\n");

        var forwarded = JsonNode.Parse(await harness.ServerReceivesLineAsync())!;
        Assert.Equal("9007199254740993", forwarded["params"]!["arguments"]!["a"]!.ToJsonString());
        Assert.Null(forwarded["params"]!["_meta"]![SignetMetaKeys.Receipt]);
        Assert.Equal(3, (int)forwarded["params"]!["_meta"]!["progressToken"]!);
    }

    private async Task<ToolCallRecorder> RecorderOverClosedLogAsync(RecordingFailureMode mode, CapturingLogs logs)
    {
        // A log whose writer is gone: every append fails, as after an fsync error.
        var audit = AuditLog.Open(Path.Combine(_directory, "audit"));
        await audit.DisposeAsync();
        return new ToolCallRecorder(new SignetOptions
        {
            Signer = TestKeys.AgentSigner(), AuditLog = audit, Target = "mcp://t", FailureMode = mode, LoggerFactory = logs,
        });
    }
}
