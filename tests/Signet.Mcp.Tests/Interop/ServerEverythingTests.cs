using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Mcp.Client;
using Signet.Receipts;

namespace Signet.Mcp.Tests.Interop;

/// <summary>
/// Our client with and without a SigningTransport against the real @modelcontextprotocol/server-everything over stdio:
/// every call must come back exactly as it does without the wrapper, and every receipt must verify.
/// </summary>
public sealed class ServerEverythingTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _log = Path.Combine(Path.GetTempPath(), $"signet-everything-{Guid.NewGuid():N}.jsonl");
    private JsonLinesFileSink? _sink;
    private McpClient? _direct;
    private McpClient? _signed;

    private static StdioClientTransport Everything() => new(new StdioClientTransportOptions
    {
        Name = "server-everything",
        Command = NpmPeers.Node,
        Arguments = [NpmPeers.ServerEverything, "stdio"],
    });

    public async Task InitializeAsync()
    {
        _sink = new JsonLinesFileSink(_log);
        _direct = await McpClient.CreateAsync(Everything()).WaitAsync(Timeout);
        _signed = await McpClient.CreateAsync(new SigningTransport(Everything(), new SignetOptions
        {
            Key = TestKeys.Agent,
            SignerName = "interop-agent",
            AuditLog = _sink,
        })).WaitAsync(Timeout);
    }

    public async Task DisposeAsync()
    {
        if (_direct is not null)
        {
            await _direct.DisposeAsync();
        }
        if (_signed is not null)
        {
            await _signed.DisposeAsync();
        }
        _sink?.Dispose();
        File.Delete(_log);
    }

    private IReadOnlyList<Receipt> Receipts() => JsonLinesFileSink.Read(_log);

    private static string Json(CallToolResult result) => JsonSerializer.Serialize(result, McpJsonUtilities.DefaultOptions);

    private void AssertAllVerify(int requests, int responses)
    {
        var receipts = Receipts();
        Assert.Equal(requests, receipts.Count(r => r.Version == 1));
        Assert.Equal(responses, receipts.Count(r => r.Version == 2));
        Assert.All(receipts, r =>
        {
            var check = ReceiptVerifier.Verify(r, new ReceiptVerificationOptions { TrustedKeys = [TestKeys.Agent.PublicKey] });
            Assert.True(check.IsValid, check.ToString());
            Assert.Equal("mcp://server-everything", r.Action!["target"]!.GetValue<string>());
        });
    }

    private async Task<(CallToolResult Direct, CallToolResult Signed)> Both(string tool, Dictionary<string, object?> arguments)
    {
        var direct = await _direct!.CallToolAsync(tool, arguments).AsTask().WaitAsync(Timeout);
        var signed = await _signed!.CallToolAsync(tool, arguments).AsTask().WaitAsync(Timeout);
        Assert.Equal(Json(direct), Json(signed));
        return (direct, signed);
    }

    [Fact]
    public async Task CallToolAsync_EchoAndGetSum_SameAsUnwrappedAndSigned()
    {
        var (echo, _) = await Both("echo", new() { ["message"] = "hello <&> ü 😀" });
        var (sum, _) = await Both("get-sum", new() { ["a"] = 2, ["b"] = 40 });

        Assert.Equal("Echo: hello <&> ü 😀", echo.Content.OfType<TextContentBlock>().Single().Text);
        Assert.Contains("42", sum.Content.OfType<TextContentBlock>().Single().Text, StringComparison.Ordinal);
        Assert.Equal(_direct!.NegotiatedProtocolVersion, _signed!.NegotiatedProtocolVersion);
        AssertAllVerify(requests: 2, responses: 2);
        var getSum = Receipts().Single(r => r.Version == 1 && r.Tool == "get-sum");
        Assert.Equal("{\"a\":2,\"b\":40}", getSum.Action!["params"]!.ToJsonString());
    }

    [Fact]
    public async Task CallToolAsync_LongRunningWithProgress_SameProgressAndResult()
    {
        // Steps a second apart, and only the first two awaited: the SDK handles a notification and the response
        // concurrently, so (with or without the wrapper) a progress notification sent shortly before the response can
        // lose the race; half a second apart, the second one did once on a loaded machine.
        var arguments = new Dictionary<string, object?> { ["duration"] = 3, ["steps"] = 3 };
        var directProgress = new Collected();
        var signedProgress = new Collected();

        var direct = await _direct!.CallToolAsync("trigger-long-running-operation", arguments, directProgress).AsTask().WaitAsync(Timeout);
        var signed = await _signed!.CallToolAsync("trigger-long-running-operation", arguments, signedProgress).AsTask().WaitAsync(Timeout);
        await directProgress.Count(2).WaitAsync(Timeout);
        await signedProgress.Count(2).WaitAsync(Timeout);

        Assert.Equal(Json(direct), Json(signed));
        // The SDK invokes progress handlers on the thread pool, so two notifications can reach the handler in either
        // order (seen with the direct client on a loaded machine): the same progress values, not their order, is the check.
        Assert.Equal([1f, 2f], directProgress.Values.Take(2).Order());
        Assert.Equal([1f, 2f], signedProgress.Values.Take(2).Order());
        AssertAllVerify(requests: 1, responses: 1);
        Assert.NotNull(Receipts().Single(r => r.Version == 1).Action!["params"]!["steps"]);
    }

    [Fact]
    public async Task CallToolAsync_FiftyConcurrentCalls_AllSucceedAndVerify()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            _signed!.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"m{i}" }).AsTask())).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"Echo: m{i}"), results.Select(r => r.Content.OfType<TextContentBlock>().Single().Text));
        AssertAllVerify(requests: 50, responses: 50);
        Assert.Equal(50, Receipts().Where(r => r.Version == 1).Select(r => r.Action!["call_id"]!.GetValue<string>()).Distinct().Count());
    }

    [Fact]
    public async Task CallToolAsync_Cancelled_CancelsLikeUnwrappedAndRecordsRequestOnly()
    {
        var started = new Collected();
        using var cts = new CancellationTokenSource();
        var call = _signed!.CallToolAsync("trigger-long-running-operation",
            new Dictionary<string, object?> { ["duration"] = 30, ["steps"] = 30 }, started, cancellationToken: cts.Token).AsTask();
        await started.Count(1).WaitAsync(Timeout);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Timeout));
        var after = await _signed.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still here" }).AsTask().WaitAsync(Timeout);
        Assert.Equal("Echo: still here", after.Content.OfType<TextContentBlock>().Single().Text);
        AssertAllVerify(requests: 2, responses: 1);
    }

    /// <summary>Collects progress values and signals when enough arrived.</summary>
    private sealed class Collected : IProgress<ProgressNotificationValue>
    {
        private readonly List<float> _values = [];
        private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];

        public IReadOnlyList<float> Values
        {
            get
            {
                lock (_values)
                {
                    return [.. _values];
                }
            }
        }

        public Task Count(int n)
        {
            lock (_values)
            {
                if (_values.Count >= n)
                {
                    return Task.CompletedTask;
                }
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((n, done));
                return done.Task;
            }
        }

        public void Report(ProgressNotificationValue value)
        {
            lock (_values)
            {
                _values.Add(value.Progress);
                foreach (var (count, done) in _waiters.Where(w => _values.Count >= w.Count))
                {
                    done.TrySetResult();
                }
            }
        }
    }
}
