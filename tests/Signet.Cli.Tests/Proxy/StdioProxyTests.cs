using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Cli.Proxy;
using Signet.Mcp;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Cli.Tests.Proxy;

/// <summary>The proxy with a real child process (POSIX tools and node) between in-memory client pipes.</summary>
public sealed class StdioProxyTests
{
    private const string Call = """{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}""";

    [Fact]
    public async Task RunAsync_CatChild_NonCallLinesComeBackByteIdenticalAndExitCodeIsZero()
    {
        await using var session = ProxySession.Start(new StdioProxyOptions { Command = "cat" });
        var big = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"data\":\"" + new string('q', 10 * 1024 * 1024) + "\"}}\n";
        var lines = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n{broken json\n\"ü 😀 \u2028\"\n" + big;
        var bytes = Encoding.UTF8.GetBytes(lines);
        var send = session.ClientSendsAsync(bytes);

        Assert.Equal(bytes, await session.ClientReceivesBytesAsync(bytes.Length));
        await send;
        Assert.Equal(0, await session.CloseInputAndWaitAsync());
    }

    [Fact]
    public async Task RunAsync_ChildExitsMidCall_PendingCallGetsErrorAndExitCodeIsChilds()
    {
        await using var session = ProxySession.Start(new StdioProxyOptions { Command = "sh", Arguments = ["-c", "head -n 1 >/dev/null; exit 7"] });
        await session.ClientSendsAsync(Encoding.UTF8.GetBytes(Call + "\n"));

        var error = JsonNode.Parse(await session.ClientReceivesLineAsync())!;
        Assert.Equal(41, (int)error["id"]!);
        Assert.Equal(ToolCallRefusedException.JsonRpcErrorCode, (int)error["error"]!["code"]!);
        Assert.Contains("exited with code 7 before answering", (string?)error["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(7, await session.Completion.WaitAsync(PipeHarness.Timeout));
        Assert.Empty(session.Recorder.Responses);
    }

    [Fact]
    public async Task RunAsync_ClientEof_ChildStdinClosedAndItsExitCodeReturned()
    {
        await using var session = ProxySession.Start(new StdioProxyOptions { Command = "sh", Arguments = ["-c", "cat >/dev/null; exit 5"] });
        await session.ClientSendsAsync(Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"));

        Assert.Equal(5, await session.CloseInputAndWaitAsync());
    }

    [Fact]
    public async Task RunAsync_ChildIgnoresStdinEof_ProcessTreeKilledAfterShutdownTimeout()
    {
        await using var session = ProxySession.Start(new StdioProxyOptions
        {
            Command = "sh",
            Arguments = ["-c", "sleep 600 & wait"],
            ShutdownTimeout = TimeSpan.FromMilliseconds(200),
        });

        var exitCode = await session.CloseInputAndWaitAsync();

        Assert.Equal(137, exitCode); // SIGKILL
    }

    [Fact]
    public async Task RunAsync_GrandchildHoldsServerOutputOpen_ReturnsChildsExitCodeAfterShutdownTimeout()
    {
        // The child exits, but the background sleep it leaves behind keeps the child's stdout open: the read of the
        // server's output never sees EOF, so ending the run depends on cancelling that read (the sleep outlasts the
        // harness's timeout).
        var pidFile = Path.Combine(Path.GetTempPath(), "signet-proxy-grandchild-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var session = ProxySession.Start(new StdioProxyOptions
            {
                Command = "sh",
                Arguments = ["-c", $"echo '{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/ready\"}}'; sleep 120 & echo $! > '{pidFile}'; exit 3"],
                ShutdownTimeout = TimeSpan.FromMilliseconds(200),
            });

            Assert.Equal("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/ready\"}\n", await session.ClientReceivesLineAsync());
            Assert.Equal(3, await session.CloseInputAndWaitAsync());
        }
        finally
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    System.Diagnostics.Process.GetProcessById(pid).Kill();
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
            }
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task RunAsync_ChildLeavesGrandchildBehind_GrandchildKilledWhenRunEnds()
    {
        // cat exits on stdin EOF; the background sleep it was started beside ignores stdin and, re-parented to init once
        // cat is gone, would outlive the proxy unless the stop sweeps the descendants it found first.
        await using var session = ProxySession.Start(new StdioProxyOptions
        {
            Command = "sh",
            Arguments = ["-c", """sleep 600 & echo '{"jsonrpc":"2.0","method":"pid","params":'$!'}'; exec cat"""],
        });
        var grandchild = (int)JsonNode.Parse(await session.ClientReceivesLineAsync())!["params"]!;
        Assert.False(ProcessIsGone(grandchild));

        Assert.Equal(0, await session.CloseInputAndWaitAsync());

        Assert.True(ProcessIsGone(grandchild), $"grandchild {grandchild} survived");
    }

    [Fact]
    public async Task RunAsync_MissingCommand_ThrowsSignetExceptionNamingIt()
    {
        var error = await Assert.ThrowsAsync<SignetException>(() => StdioProxy.RunAsync(
            new StdioProxyOptions { Command = "/nonexistent/signet-test-server" },
            new RecorderDouble(),
            new MemoryStream(),
            new MemoryStream()));

        Assert.Contains("could not start the tool server '/nonexistent/signet-test-server'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_SignetVariablesInOurEnvironment_OnlySignetHomeReachesChild()
    {
        // Inherited variables are the case that matters (an MCP client config's env block reaches the proxy), so they are
        // set on this process. No test here reads SIGNET_* and every child filters them, so the others are unaffected.
        var inherited = new Dictionary<string, string>
        {
            ["SIGNET_PASSPHRASE"] = "hunter2",
            ["SIGNET_SECRET_KEY"] = "c2VjcmV0",
            ["SIGNET_FUTURE_TOKEN"] = "t",
            ["SIGNET_HOME"] = "/tmp/signet-home-test",
        };
        var saved = inherited.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        const string script = "process.stdout.write(JSON.stringify({jsonrpc:'2.0',method:'env',params:process.env})+'\\n')";
        JsonObject env;
        try
        {
            foreach (var (name, value) in inherited)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
            await using var session = ProxySession.Start(new StdioProxyOptions
            {
                Command = "node",
                Arguments = ["-e", script],
                EnvironmentVariables = new Dictionary<string, string?> { ["PROXY_TEST_EXTRA"] = "yes" },
            });
            env = JsonNode.Parse(await session.ClientReceivesLineAsync())!["params"]!.AsObject();
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }

        Assert.Equal("yes", (string?)env["PROXY_TEST_EXTRA"]);
        Assert.Equal("/tmp/signet-home-test", (string?)env["SIGNET_HOME"]);
        Assert.DoesNotContain(env, p => p.Key.StartsWith("SIGNET_", StringComparison.Ordinal) && p.Key != "SIGNET_HOME");
        Assert.NotNull(env["PATH"]);
    }

    [Fact]
    public async Task RunAsync_NodeServerAnswersCalls_ResponsesRecordedAndDelivered()
    {
        // A minimal newline-JSON-RPC server: answers every request with its params, after the tools/call has been seen.
        const string script = """
            const rl = require('readline').createInterface({ input: process.stdin });
            rl.on('line', l => { const m = JSON.parse(l); if (m.id !== undefined && m.method) process.stdout.write(JSON.stringify({jsonrpc:'2.0', id:m.id, result:{echo:m.params}})+'\n'); });
            """;
        await using var session = ProxySession.Start(new StdioProxyOptions { Command = "node", Arguments = ["-e", script] });
        await session.ClientSendsAsync(Encoding.UTF8.GetBytes(Call + "\n"));

        var response = JsonNode.Parse(await session.ClientReceivesLineAsync())!;

        Assert.Equal(41, (int)response["id"]!);
        Assert.Equal("n:41", (string?)response["result"]!["echo"]!["_meta"]![RecorderDouble.MetaKey]);
        Assert.Equal("n:41", Assert.Single(session.Recorder.Responses).CallId);
        Assert.Equal(0, await session.CloseInputAndWaitAsync());
    }

    [Fact]
    public async Task RunAsync_SixteenConcurrentCallsIntoDurableAuditLog_ShareFsyncs()
    {
        const int calls = 16;
        var directory = Directory.CreateTempSubdirectory("signet-proxy-group-commit-");
        try
        {
            var log = AuditLog.Open(directory.FullName, new AuditLogOptions { Durability = AuditDurability.Durable });
            var gathering = new GatheringSink(log, calls);
            var recorder = new ToolCallRecorder(new SignetOptions { Signer = TestKeys.AgentSigner(), AuditLog = gathering, Target = "mcp://cat" });
            await using (var session = ProxySession.Start(new StdioProxyOptions { Command = "cat" }, recorder))
            {
                var lines = new StringBuilder();
                for (var id = 1; id <= calls; id++)
                {
                    lines.Append("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"m" + id + "\"}}}").Append('\n');
                }
                await session.ClientSendsAsync(Encoding.UTF8.GetBytes(lines.ToString()));

                // cat sends each forwarded line back: the calls reach the server in the client's order, each with its receipt.
                for (var id = 1; id <= calls; id++)
                {
                    var echoed = JsonNode.Parse(await session.ClientReceivesLineAsync())!;
                    Assert.Equal(id, (int)echoed["id"]!);
                    Assert.Equal($"n:{id}", (string?)echoed["params"]!["_meta"]![SignetMetaKeys.Receipt]!["action"]!["call_id"]);
                }
                Assert.Equal(0, await session.CloseInputAndWaitAsync());
            }

            var (_, records, syncs) = log.Statistics;
            await log.DisposeAsync();
            Assert.Equal(calls, records);
            Assert.InRange(syncs, 1, calls - 1); // appends made together were committed together
            var verified = AuditVerifier.Verify(directory.FullName);
            Assert.True(verified.IsIntact);
            Assert.Equal(calls, verified.RecordCount);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>True when the process no longer runs (a killed orphan stays a zombie until init reaps it).</summary>
    private static bool ProcessIsGone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>
    /// Holds appends until <paramref name="count"/> are waiting at once (which only happens when the proxy records calls
    /// concurrently), then passes them all to the audit log together.
    /// </summary>
    private sealed class GatheringSink(AuditLog log, int count) : IReceiptSink
    {
        private readonly List<(Receipt Receipt, TaskCompletionSource Done)> _held = [];

        public async ValueTask AppendAsync(Receipt receipt, CancellationToken cancellationToken = default)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            List<(Receipt Receipt, TaskCompletionSource Done)>? release = null;
            lock (_held)
            {
                _held.Add((receipt, done));
                if (_held.Count == count)
                {
                    release = [.. _held];
                    _held.Clear();
                }
            }
            if (release is not null)
            {
                var appends = release.Select(r => (r.Done, Append: log.AppendAsync(r.Receipt.Json).AsTask())).ToList();
                foreach (var (held, append) in appends)
                {
                    _ = append.ContinueWith(t => held.TrySetException(t.Exception!.InnerExceptions), TaskContinuationOptions.OnlyOnFaulted);
                    _ = append.ContinueWith(_ => held.TrySetResult(), TaskContinuationOptions.OnlyOnRanToCompletion);
                }
            }
            await done.Task.WaitAsync(PipeHarness.Timeout, cancellationToken);
        }
    }

    /// <summary>One proxy run with a real child, driven through in-memory client pipes.</summary>
    private sealed class ProxySession : IAsyncDisposable
    {
        private readonly Pipe _clientToProxy = new();
        private readonly Pipe _proxyToClient = new();

        private readonly IToolCallRecorder _recorder;

        private ProxySession(StdioProxyOptions options, IToolCallRecorder recorder)
        {
            _recorder = recorder;
            Completion = Task.Run(() => StdioProxy.RunAsync(options, recorder, _clientToProxy.Reader.AsStream(), _proxyToClient.Writer.AsStream()));
        }

        /// <summary>The recorder, when the session was started with the default <see cref="RecorderDouble"/>.</summary>
        public RecorderDouble Recorder => (RecorderDouble)_recorder;

        public Task<int> Completion { get; }

        public static ProxySession Start(StdioProxyOptions options, IToolCallRecorder? recorder = null) => new(options, recorder ?? new RecorderDouble());

        public Task ClientSendsAsync(byte[] bytes) => _clientToProxy.Writer.WriteAsync(bytes).AsTask().WaitAsync(PipeHarness.Timeout);

        public async Task<string> ClientReceivesLineAsync()
        {
            var reader = _proxyToClient.Reader;
            while (true)
            {
                var result = await reader.ReadAsync().AsTask().WaitAsync(PipeHarness.Timeout);
                var buffer = result.Buffer;
                if (buffer.PositionOf((byte)'\n') is { } position)
                {
                    var end = buffer.GetPosition(1, position);
                    var line = Encoding.UTF8.GetString(buffer.Slice(0, end).ToArray());
                    reader.AdvanceTo(end);
                    return line;
                }
                if (result.IsCompleted)
                {
                    throw new InvalidOperationException("the proxy's output ended before a complete line");
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }

        public async Task<byte[]> ClientReceivesBytesAsync(int count)
        {
            var reader = _proxyToClient.Reader;
            while (true)
            {
                var result = await reader.ReadAsync().AsTask().WaitAsync(PipeHarness.Timeout);
                var buffer = result.Buffer;
                if (buffer.Length >= count)
                {
                    var bytes = buffer.Slice(0, count).ToArray();
                    reader.AdvanceTo(buffer.GetPosition(count));
                    return bytes;
                }
                if (result.IsCompleted)
                {
                    throw new InvalidOperationException($"the proxy's output ended after {buffer.Length} of {count} bytes");
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }

        public async Task<int> CloseInputAndWaitAsync()
        {
            await _clientToProxy.Writer.CompleteAsync();
            return await Completion.WaitAsync(PipeHarness.Timeout);
        }

        public async ValueTask DisposeAsync()
        {
            await _clientToProxy.Writer.CompleteAsync();
            try
            {
                await Completion.WaitAsync(PipeHarness.Timeout);
            }
            catch (SignetException)
            {
                // Asserted by the test that expects it.
            }
        }
    }
}
