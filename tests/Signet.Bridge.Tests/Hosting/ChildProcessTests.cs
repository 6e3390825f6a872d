using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Signet.Bridge.Hosting;

namespace Signet.Bridge.Tests.Hosting;

/// <summary>The one child-process host of the stdio proxy and the bridge, with real POSIX children.</summary>
public sealed class ChildProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DisposeAsync_ChildLeftAGrandchild_GrandchildKilled()
    {
        // The background sleep ignores stdin and would outlive cat (re-parented to init) unless it is swept.
        var lines = new LineCollector();
        var child = ChildProcess.Start(new ChildProcessOptions { Command = "sh", Arguments = ["-c", "sleep 600 & echo $!; exec cat"] });
        _ = child.ReadLinesAsync(lines.OnLineAsync, 1024);
        var grandchild = int.Parse(await lines.NextAsync(), CultureInfo.InvariantCulture);
        Assert.False(BridgeHarness.ProcessIsGone(grandchild));

        await child.DisposeAsync().AsTask().WaitAsync(Timeout);

        Assert.True(child.HasExited);
        // The sweep waits for the processes it killed (on their pidfds): gone when DisposeAsync returns.
        Assert.True(BridgeHarness.ProcessIsGone(grandchild), $"grandchild {grandchild} survived");
    }

    [Fact]
    public async Task StopAsync_ChildExitsOnStdinEof_ReturnsItsExitCode()
    {
        await using var child = ChildProcess.Start(new ChildProcessOptions { Command = "sh", Arguments = ["-c", "cat >/dev/null; exit 5"] });
        Assert.False(child.HasExited);

        Assert.Equal(5, await child.StopAsync().WaitAsync(Timeout));
        Assert.True(child.HasExited);
        Assert.Equal(5, child.ExitCode);
        Assert.Equal(5, await child.StopAsync().WaitAsync(Timeout)); // the same stop, not a second one
    }

    [Fact]
    public async Task StopAsync_ChildIgnoresStdinEof_TreeKilledAfterShutdownTimeout()
    {
        var logs = new CapturingLoggerFactory();
        await using var child = ChildProcess.Start(
            new ChildProcessOptions { Command = "sh", Arguments = ["-c", "sleep 600 & wait"], ShutdownTimeout = TimeSpan.FromMilliseconds(200) },
            logs.CreateLogger("test"));

        Assert.Equal(137, await child.StopAsync().WaitAsync(Timeout)); // SIGKILL
        Assert.Single(logs.Containing("did not exit within"));
    }

    [Fact]
    public async Task Start_StandardErrorLogged_EachLineReachesLoggerAtDebug()
    {
        var logs = new CapturingLoggerFactory();
        await using (var child = ChildProcess.Start(
            new ChildProcessOptions
            {
                Command = "sh",
                Arguments = ["-c", "echo first >&2; echo 'second line' >&2; echo out"],
                StandardError = ChildStandardError.Log,
                Label = "backend 'test'",
            },
            logs.CreateLogger("test")))
        {
            var lines = new LineCollector();
            var read = child.ReadLinesAsync(lines.OnLineAsync, 1024);
            Assert.Equal("out", await lines.NextAsync());
            Assert.Contains("closed its output", await read.WaitAsync(Timeout), StringComparison.Ordinal);
            Assert.Equal(0, await child.StopAsync().WaitAsync(Timeout));
        }

        var stderr = logs.Containing("stderr:");
        Assert.Equal(["backend 'test' stderr: first", "backend 'test' stderr: second line"], stderr.Select(e => e.Message));
        Assert.All(stderr, e => Assert.Equal(LogLevel.Debug, e.Level));
    }

    [Fact]
    public async Task Start_SignetVariablesInOurEnvironment_NotPassedButGivenOnesAre()
    {
        // Set on this process: the inherited environment is what carries secrets (an MCP client config's env block).
        // The name is this test's own, so no other test sees it.
        const string secret = "SIGNET_CHILD_PROCESS_TEST_SECRET";
        Environment.SetEnvironmentVariable(secret, "hunter2");
        Environment.SetEnvironmentVariable("CHILD_PROCESS_TEST_REMOVED", "present");
        var lines = new LineCollector();
        try
        {
            await using var child = ChildProcess.Start(new ChildProcessOptions
            {
                Command = "sh",
                Arguments = ["-c", "env; echo END"],
                EnvironmentVariables = new Dictionary<string, string?> { ["CHILD_PROCESS_TEST_EXTRA"] = "yes", ["CHILD_PROCESS_TEST_REMOVED"] = null },
            });
            _ = child.ReadLinesAsync(lines.OnLineAsync, 64 * 1024);
            while (await lines.NextAsync() != "END")
            {
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(secret, null);
            Environment.SetEnvironmentVariable("CHILD_PROCESS_TEST_REMOVED", null);
        }

        var env = lines.All;
        Assert.Contains("CHILD_PROCESS_TEST_EXTRA=yes", env);
        Assert.DoesNotContain(env, l => l.StartsWith(secret, StringComparison.Ordinal) || l.Contains("hunter2", StringComparison.Ordinal));
        Assert.DoesNotContain(env, l => l.StartsWith("CHILD_PROCESS_TEST_REMOVED=", StringComparison.Ordinal));
        Assert.Contains(env, l => l.StartsWith("PATH=", StringComparison.Ordinal));
    }

    [Fact]
    public void Filter_Environment_RemovesEverySignetVariableButHome()
    {
        var environment = new Dictionary<string, string?>
        {
            ["PATH"] = "/bin",
            ["SIGNET_PASSPHRASE"] = "x",
            ["SIGNET_PKCS11_PIN"] = "x",
            ["SIGNET_PKCS11_MODULE"] = "/usr/lib/softhsm/libsofthsm2.so",
            ["SIGNET_SECRET_KEY"] = "x",
            ["SIGNET_KEY"] = "agent",
            ["SIGNET_BRIDGE_TOKEN"] = "x",
            ["SIGNET_HOME"] = "/h",
            ["NOT_SIGNET_PASSPHRASE"] = "kept",
        };

        ChildEnvironment.Filter(environment);

        Assert.Equal(["NOT_SIGNET_PASSPHRASE", "PATH", "SIGNET_HOME"], environment.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Start_CommandDoesNotExist_SignetExceptionNamesItAndWhatToCheck()
    {
        var error = Assert.Throws<SignetException>(() => ChildProcess.Start(new ChildProcessOptions
        {
            Command = "/nonexistent/signet-test-server",
            Label = "backend 'files'",
            CommandSource = "the command of backend 'files'",
        }));

        Assert.StartsWith("could not start backend 'files' '/nonexistent/signet-test-server': ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Check that the command of backend 'files' exists and is on PATH (or give its full path).", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_WorkingDirectoryDoesNotExist_HintNamesIt()
    {
        var error = Assert.Throws<SignetException>(() => ChildProcess.Start(new ChildProcessOptions { Command = "cat", WorkingDirectory = "/nonexistent/signet-dir" }));

        Assert.Contains("could not start the tool server 'cat'", error.Message, StringComparison.Ordinal);
        Assert.Contains("the working directory '/nonexistent/signet-dir' exists", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteLineAsync_ConcurrentWriters_EachLineArrivesWhole()
    {
        var lines = new LineCollector();
        await using var child = ChildProcess.Start(new ChildProcessOptions { Command = "cat" });
        _ = child.ReadLinesAsync(lines.OnLineAsync, 1024 * 1024);
        var sent = Enumerable.Range(0, 20).Select(i => i + ":" + new string((char)('a' + i), 50_000)).ToList();

        await Task.WhenAll(sent.Select(line => child.WriteLineAsync(Encoding.UTF8.GetBytes(line), CancellationToken.None).AsTask())).WaitAsync(Timeout);
        var received = new List<string>();
        for (var i = 0; i < sent.Count; i++)
        {
            received.Add(await lines.NextAsync());
        }

        Assert.Equal(sent.Order(StringComparer.Ordinal), received.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ReadLinesAsync_LineLongerThanLimit_EndsWithReason()
    {
        await using var child = ChildProcess.Start(new ChildProcessOptions { Command = "sh", Arguments = ["-c", "head -c 5000 /dev/zero | tr '\\0' x; cat"] });

        var reason = await child.ReadLinesAsync(_ => ValueTask.CompletedTask, 1024).WaitAsync(Timeout);

        Assert.Equal("the tool server wrote a message longer than 1024 bytes", reason);
    }

    [Fact]
    public void WindowsCommandLine_ArgumentsWithSpacesQuotesAndOperators_EscapedForCmdAndTheProgram()
    {
        var line = WindowsCommandLine.For("npx", ["-y", "a b", "x&y|z", "say \"hi\"", "C:\\dir\\", "100%"]);

        Assert.Equal("/d /s /c \"npx ^\"-y^\" ^\"a^ b^\" ^\"x^&y^|z^\" ^\"say^ \\^\"hi\\^\"^\" ^\"C:\\dir\\\\^\" ^\"100^%^\"\"", line);
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("", "\"\"")]
    [InlineData("a\\b", "\"a\\b\"")]
    [InlineData("ends\\", "\"ends\\\\\"")]
    [InlineData("q\"", "\"q\\\"\"")]
    [InlineData("bs\\\"q", "\"bs\\\\\\\"q\"")]
    public void QuoteForProgram_Argument_ReadBackUnchangedByMsvcrtRules(string argument, string expected)
    {
        Assert.Equal(expected, WindowsCommandLine.QuoteForProgram(argument));
    }

    /// <summary>Collects the lines a child writes, in order, for tests to await one by one.</summary>
    private sealed class LineCollector
    {
        private readonly System.Threading.Channels.Channel<string> channel = System.Threading.Channels.Channel.CreateUnbounded<string>();
        private readonly List<string> all = [];

        public List<string> All
        {
            get
            {
                lock (all)
                {
                    return [.. all];
                }
            }
        }

        public ValueTask OnLineAsync(ReadOnlyMemory<byte> line)
        {
            var text = Encoding.UTF8.GetString(line.Span);
            lock (all)
            {
                all.Add(text);
            }
            return channel.Writer.WriteAsync(text);
        }

        public async Task<string> NextAsync() => await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
    }
}
