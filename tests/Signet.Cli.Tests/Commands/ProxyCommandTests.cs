using System.Text;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Cli.Commands;
using Signet.Keys;

namespace Signet.Cli.Tests.Commands;

/// <summary><c>signet proxy</c> as a real process, with real child processes, the real recorder and the real audit log.</summary>
public sealed class ProxyCommandTests : IDisposable
{
    /// <summary>A newline JSON-RPC server: answers every request with its method and params; logs to stderr.</summary>
    private const string EchoServer = """
        const rl = require('readline').createInterface({ input: process.stdin });
        process.stderr.write('echo server: started\n');
        rl.on('line', l => {
          let m; try { m = JSON.parse(l); } catch { process.stdout.write(JSON.stringify({jsonrpc:'2.0', id:null, error:{code:-32700, message:'Parse error'}})+'\n'); return; }
          process.stderr.write('echo server: got ' + m.method + '\n');
          if (m.id !== undefined && m.method) process.stdout.write(JSON.stringify({jsonrpc:'2.0', id:m.id, result:{method:m.method, params:m.params ?? null, env: m.method === 'env' ? process.env : undefined}})+'\n');
        });
        """;

    private readonly TempDir _dir = new();

    public ProxyCommandTests()
    {
        Home = _dir.File("home");
        KeyStore.ForHome(Home).CreateUnencrypted("default", "tests");
        File.WriteAllText(_dir.File("echo-server.js"), EchoServer);
    }

    private string Home { get; }

    private string AuditDirectory => Path.Combine(Home, "audit");

    private Dictionary<string, string?> Environment => new() { ["SIGNET_HOME"] = Home };

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Proxy_ToolsCalls_ForwardedWithReceiptAndChainVerifies()
    {
        await using var proxy = SignetProcess.Start(["proxy", "--", "node", _dir.File("echo-server.js")], Environment);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}\n");
        Assert.Equal("initialize", (string?)JsonNode.Parse(await proxy.ReadLineAsync())!["result"]!["method"]);

        for (var i = 2; i <= 4; i++)
        {
            await proxy.SendAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"n\":{i}}},\"_meta\":{{\"progressToken\":\"t{i}\"}}}}}}\n");
            var response = JsonNode.Parse(await proxy.ReadLineAsync())!;
            Assert.Equal(i, (int)response["id"]!);
            var meta = response["result"]!["params"]!["_meta"]!.AsObject();
            Assert.Equal($"t{i}", (string?)meta["progressToken"]);
            Assert.Equal(1, (int)meta["dev.signet/receipt"]!["v"]!);
        }
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());

        var verified = AuditVerifier.Verify(AuditDirectory, new AuditVerifyOptions { VerifySignatures = true });
        Assert.True(verified.IsValid, verified.Break?.Message);
        Assert.Equal(6, verified.RecordCount); // a v1 and a v2 per call
    }

    [Fact]
    public async Task Proxy_VerboseLogging_StdoutCarriesOnlyProtocol()
    {
        await using var proxy = SignetProcess.Start(["proxy", "--verbose", "--log-file", _dir.File("proxy.log"), "--", "node", _dir.File("echo-server.js")], Environment);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}\n");
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n");
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n");
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());

        var lines = (await proxy.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, line => Assert.Equal("2.0", (string?)JsonNode.Parse(line)!["jsonrpc"]));
        Assert.Contains("echo server: got tools/call", proxy.Error, StringComparison.Ordinal); // the child's stderr is ours
        Assert.Contains("started node", File.ReadAllText(_dir.File("proxy.log")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, "appended deferred (written now, fsynced with the log's next fsync)")]
    [InlineData(true, "appended (fsynced first in a durable log)")]
    public async Task Proxy_SyncResponses_ResponseReceiptIsFsyncedBeforeDelivery(bool sync, string responseStorage)
    {
        string[] options = sync ? ["--sync-responses"] : [];
        await using var proxy = SignetProcess.Start(["proxy", "--verbose", .. options, "--", "node", _dir.File("echo-server.js")], Environment);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n");
        Assert.Equal(1, (int)JsonNode.Parse(await proxy.ReadLineAsync())!["id"]!);
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());

        // The request receipt is made durable before the call goes out either way; the response's waits only when asked.
        var log = proxy.Error.Split('\n');
        Assert.Contains(log, l => l.Contains("request receipt", StringComparison.Ordinal) && l.Contains("appended (fsynced first in a durable log)", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("Signed the response", StringComparison.Ordinal) && l.Contains(responseStorage, StringComparison.Ordinal));
        Assert.Equal(2, AuditVerifier.Verify(AuditDirectory).RecordCount);
    }

    [Fact]
    public async Task Proxy_AuditLogUnwritable_CallGetsErrorNamingCauseAndServerNeverSeesIt()
    {
        File.WriteAllText(AuditDirectory, "a file where the audit directory should be");
        var received = _dir.File("received.txt");
        await using var proxy = SignetProcess.Start(["proxy", "--", "sh", "-c", $"cat > '{received}'"], Environment);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"rm\"}}\n");

        var error = JsonNode.Parse(await proxy.ReadLineAsync())!;
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}\n");
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());

        Assert.Equal(7, (int)error["id"]!);
        Assert.Equal(-32099, (int)error["error"]!["code"]!);
        var message = (string?)error["error"]!["message"];
        Assert.StartsWith("signet: ", message, StringComparison.Ordinal);
        Assert.Contains("audit", message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}\n", File.ReadAllText(received));
    }

    [Fact]
    public async Task Proxy_RequireCoSignature_ResponseWithoutOneWithheldAndItsReceiptKept()
    {
        await using var proxy = SignetProcess.Start(["proxy", "--require-cosignature", "--", "node", _dir.File("echo-server.js")], Environment);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n");

        var answer = JsonNode.Parse(await proxy.ReadLineAsync())!;
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());

        Assert.Equal(7, (int)answer["id"]!);
        Assert.Equal(-32099, (int)answer["error"]!["code"]!);
        Assert.Contains("co-signature", (string?)answer["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.RunAsync(["log", "verify", "--home", Home])).ExitCode);
    }

    [Theory]
    [InlineData("not-a-key")]
    [InlineData("ed25519:AAAA")]
    public async Task Proxy_TrustServerKeyNotAKey_UsageErrorNamingTheOption(string key)
    {
        var result = await CliRunner.RunAsync(["proxy", "--home", Home, "--trust-server-key", key, "--", "node", _dir.File("echo-server.js")]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--trust-server-key", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--fail-open")]
    [InlineData("--sync-responses")]
    [InlineData("--meta-key")]
    [InlineData("--trust-server-key")]
    [InlineData("--require-cosignature")]
    public async Task Help_RecordingPolicy_OfferedByTheProxyAndTheBridgeAlike(string option)
    {
        Assert.Contains(option, (await CliRunner.RunAsync(["proxy", "--help"])).Out, StringComparison.Ordinal);
        Assert.Contains(option, (await CliRunner.RunAsync(["bridge", "--help"])).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_AuditLogUnwritableWithFailOpen_CallForwardedAndFailureLoggedLoudly()
    {
        File.WriteAllText(AuditDirectory, "not a directory");
        await using var proxy = SignetProcess.Start(["proxy", "--fail-open", "--", "node", _dir.File("echo-server.js")], Environment);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n");

        var response = JsonNode.Parse(await proxy.ReadLineAsync())!;
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());

        Assert.Equal("tools/call", (string?)response["result"]!["method"]);
        Assert.Single(proxy.Error.Split('\n'), l => l.Contains("FAIL-OPEN: tools/call n:7", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Proxy_ServerReplyWithInvalidUtf8IdWhileCallPending_ForwardedAndTheRealReplyStillRecorded()
    {
        // Answers each line first with an id that is not UTF-8, then properly.
        File.WriteAllText(_dir.File("bad-reply.js"), """
            require('readline').createInterface({ input: process.stdin }).on('line', l => {
              const m = JSON.parse(l);
              process.stdout.write(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":"z'), Buffer.from([0xff]), Buffer.from('","result":{}}\n')]));
              process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { content: [] } }) + '\n');
            });
            """);
        await using var proxy = SignetProcess.Start(["proxy", "--", "node", _dir.File("bad-reply.js")], Environment);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n");

        Assert.StartsWith("{\"jsonrpc\":\"2.0\",\"id\":\"z", await proxy.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal(7, (int)JsonNode.Parse(await proxy.ReadLineAsync())!["id"]!);
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());

        Assert.Equal("", await proxy.ReadToEndAsync());
        Assert.Contains("could not be read; it is forwarded unchanged", proxy.Error, StringComparison.Ordinal);
        Assert.Equal(2, AuditVerifier.Verify(AuditDirectory).RecordCount); // the v1 and the v2 of call 7
    }

    [Fact]
    public async Task Proxy_ClientCallWithInvalidUtf8InItsId_RefusedWithTheIdAsSentAndSessionGoesOn()
    {
        await using var proxy = SignetProcess.Start(["proxy", "--", "node", _dir.File("echo-server.js")], Environment);
        byte[] bad = [.. "{\"jsonrpc\":\"2.0\",\"id\":\"z"u8, 0xFF, .. "\",\"method\":\"tools/call\",\"params\":{\"name\":\"rm\"}}\n"u8];
        await proxy.Input.WriteAsync(bad);
        await proxy.Input.FlushAsync();
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n");

        var error = JsonNode.Parse(await proxy.ReadLineAsync())!;
        var answer = JsonNode.Parse(await proxy.ReadLineAsync())!;
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());

        Assert.Equal("z\uFFFD", (string?)error["id"]); // the byte came back as sent; the reader shows it as U+FFFD
        Assert.Equal(-32099, (int)error["error"]!["code"]!);
        Assert.Equal(8, (int)answer["id"]!);
        Assert.DoesNotContain("got tools/call\necho server: got tools/call", proxy.Error, StringComparison.Ordinal); // only call 8 ran
        Assert.Single(proxy.Error.Split('\n'), l => l.Contains("refused tools/call", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Proxy_EncryptedKeyWithoutPassphrase_StopsAtStartSayingWhatToAddToTheConfig()
    {
        KeyStore.ForHome(Home).CreateEncrypted("locked", PassphraseSource.Fixed("correct horse"));
        var started = _dir.File("started");
        await using var proxy = SignetProcess.Start(["proxy", "--key", "locked", "--", "sh", "-c", $"touch '{started}'"], Environment);

        Assert.Equal(1, await proxy.WaitAsync());
        Assert.Contains("\"env\": {\"SIGNET_PASSPHRASE\"", proxy.Error, StringComparison.Ordinal);
        Assert.Contains("--passphrase-file", proxy.Error, StringComparison.Ordinal);
        Assert.Equal("", await proxy.ReadToEndAsync());
        Assert.False(File.Exists(started));
    }

    [Fact]
    public async Task Proxy_PassphraseFromEnvironment_UnlocksKeyAndNeverReachesChild()
    {
        KeyStore.ForHome(Home).CreateEncrypted("locked", PassphraseSource.Fixed("correct horse"));
        var environment = Environment;
        environment["SIGNET_PASSPHRASE"] = "correct horse";
        environment["SIGNET_KEY"] = "locked";
        await using var proxy = SignetProcess.Start(["proxy", "--", "node", _dir.File("echo-server.js")], environment);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"env\"}\n");
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n");

        var env = JsonNode.Parse(await proxy.ReadLineAsync())!["result"]!["env"]!.AsObject();
        var call = JsonNode.Parse(await proxy.ReadLineAsync())!;
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());

        Assert.DoesNotContain(env, p => p.Key is "SIGNET_PASSPHRASE" or "SIGNET_KEY");
        Assert.Equal(Home, (string?)env["SIGNET_HOME"]);
        Assert.NotNull(call["result"]!["params"]!["_meta"]!["dev.signet/receipt"]);
    }

    [Fact]
    public async Task Proxy_PassphraseFile_UnlocksKey()
    {
        KeyStore.ForHome(Home).CreateEncrypted("locked", PassphraseSource.Fixed("correct horse"));
        File.WriteAllText(_dir.File("pass.txt"), "correct horse\n");
        await using var proxy = SignetProcess.Start(["proxy", "--key", "locked", "--passphrase-file", _dir.File("pass.txt"), "--", "node", _dir.File("echo-server.js")], Environment);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n");

        var call = JsonNode.Parse(await proxy.ReadLineAsync())!;
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());
        Assert.NotNull(call["result"]!["params"]!["_meta"]!["dev.signet/receipt"]);
    }

    [Fact]
    public async Task Proxy_ChildFailsToStart_ExitsOneWithClearMessage()
    {
        await using var proxy = SignetProcess.Start(["proxy", "--", "/nonexistent/tool-server", "--flag"], Environment);

        Assert.Equal(1, await proxy.WaitAsync());
        Assert.Contains("could not start the tool server '/nonexistent/tool-server'", proxy.Error, StringComparison.Ordinal);
        Assert.Equal("", await proxy.ReadToEndAsync());
    }

    [Fact]
    public async Task Proxy_ChildExitsMidCall_CallGetsErrorAndExitCodeIsChilds()
    {
        await using var proxy = SignetProcess.Start(["proxy", "--", "sh", "-c", "head -n 1 >/dev/null; exit 9"], Environment);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":\"call-1\",\"method\":\"tools/call\",\"params\":{\"name\":\"slow\"}}\n");

        var error = JsonNode.Parse(await proxy.ReadLineAsync())!;
        Assert.Equal(9, await proxy.WaitAsync());
        Assert.Equal("call-1", (string?)error["id"]);
        Assert.Contains("exited with code 9 before answering", (string?)error["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_Sigterm_PassedToChildAndExitCodeIsChilds()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // no SIGTERM to pass on
        }
        await using var proxy = SignetProcess.Start(["proxy", "--", "sh", "-c", "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done"], Environment);
        Assert.Equal("ready", await proxy.ReadLineAsync());

        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", proxy.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync().WaitAsync(SignetProcess.Timeout);
        }

        Assert.Equal(42, await proxy.WaitAsync());
    }

    [Fact]
    public async Task Proxy_TenMegabyteLine_PassesThroughByteIdentical()
    {
        await using var proxy = SignetProcess.Start(["proxy", "--", "cat"], Environment);
        var line = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"data\":\"" + new string('m', 10 * 1024 * 1024) + "\"}}";
        var send = proxy.SendAsync(line + "\n");

        Assert.Equal(line, await proxy.ReadLineAsync());
        await send;
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());
    }

    [Fact]
    public async Task Proxy_NoServerCommand_IsUsageError()
    {
        var result = await CliRunner.RunAsync(["proxy", "--home", Home]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("after '--'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_UrlAndCommandTogether_IsUsageError()
    {
        var result = await CliRunner.RunAsync(["proxy", "--home", Home, "--url", "http://127.0.0.1:1/mcp", "--", "node"]);

        Assert.Equal(2, result.ExitCode);
    }

    [Theory]
    [InlineData("mcp://server-everything", "npx", "-y", "@modelcontextprotocol/server-everything")]
    [InlineData("mcp://index.js", "node", "/opt/srv/dist/index.js", "stdio")]
    [InlineData("mcp://my-server", "/usr/local/bin/my-server", "--port", "1")]
    [InlineData("mcp://uvx", "uvx")]
    public void DefaultTarget_ServerCommand_NamesTheServer(string expected, params string[] command)
    {
        Assert.Equal(expected, ProxyCommand.DefaultTarget(command));
    }

    [Fact]
    public void ParseHeaders_KeyValueAndColonForms_Parsed()
    {
        var headers = ProxyCommand.ParseHeaders(["Authorization=Bearer a=b", "X-Team: blue"]);

        Assert.Equal("Bearer a=b", headers["authorization"]);
        Assert.Equal("blue", headers["X-Team"]);
        Assert.Throws<CliUsageException>(() => ProxyCommand.ParseHeaders(["novalue"]));
    }
}
