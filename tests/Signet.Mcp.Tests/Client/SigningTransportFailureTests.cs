using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using Signet.Audit;
using Signet.Mcp.Client;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Mcp.Tests.Client;

/// <summary>What the library does when a receipt cannot be kept.</summary>
public sealed class SigningTransportFailureTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "signet-transport-failure-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Refusal_CauseEndingInAPeriod_MessageHasNoDoublePeriod()
    {
        var recorder = new ToolCallRecorder(new SignetOptions { Signer = TestKeys.AgentSigner(), AuditLog = new PeriodFailingSink(), Target = "mcp://t" });

        var e = await Assert.ThrowsAsync<ToolCallRecordingException>(() => recorder.RecordRequestAsync(JsonNode.Parse("""{"name":"echo"}""")!.AsObject(), "n:1", null, null).AsTask());

        Assert.Contains("No space left on device. Nothing was sent", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("..", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RecordingFailureMode.FailOpen)]
    [InlineData(RecordingFailureMode.FailClosed)]
    public async Task SigningTransport_LogWriterFailed_FailOpenSendsWithCriticalLineFailClosedRefuses(RecordingFailureMode mode)
    {
        var logs = new CapturingLogs();
        var audit = AuditLog.Open(Path.Combine(_directory, "audit"));
        await audit.DisposeAsync();
        await using var server = InProcessServer.Start();
        await using var client = await McpClient.CreateAsync(new SigningTransport(server.ClientTransport(), new SignetOptions
        {
            Key = TestKeys.Agent, SignerName = "agent", AuditLog = audit, Target = "mcp://in-process", FailureMode = mode, LoggerFactory = logs,
        }), ClientExtensions.Protocol("2025-11-25")).WaitAsync(TestTimeout.Value);

        var call = client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask().WaitAsync(TestTimeout.Value);

        if (mode == RecordingFailureMode.FailOpen)
        {
            await call;
            var critical = Assert.Single(logs.At(LogLevel.Critical), m => m.StartsWith("FAIL-OPEN: tools/call", StringComparison.Ordinal) && m.Contains("request receipt", StringComparison.Ordinal));
            Assert.Contains("the audit log is closed", critical, StringComparison.Ordinal);
        }
        else
        {
            var e = await Assert.ThrowsAsync<McpProtocolException>(() => call);
            Assert.Contains("the audit log is closed", e.Message, StringComparison.Ordinal);
            Assert.Empty(logs.At(LogLevel.Critical));
            var warning = Assert.Single(logs.Entries, l => l.Level >= LogLevel.Warning);
            Assert.Null(warning.Exception);
        }
    }

    private sealed class PeriodFailingSink : IReceiptSink
    {
        public ValueTask AppendAsync(Receipt receipt, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException("No space left on device."));
    }
}
