using System.Diagnostics;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Keys;
using Signet.Mcp.Tests.Interop;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Cli.Tests.Commands;

/// <summary>
/// The MCP Inspector's CLI mode (<c>npx @modelcontextprotocol/inspector --cli COMMAND … --method …</c>, a pinned npm
/// peer) in front of <c>signet proxy</c>: every answer is the one it gets from the server directly, and every call has
/// its receipts. The Inspector drops the <c>--</c> that separates the proxy's options from the server's command, so
/// these runs also show that the proxy copes without it.
/// </summary>
public sealed class InspectorInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public InspectorInteropTests()
    {
        Home = _dir.File("home");
        KeyStore.ForHome(Home).CreateUnencrypted("default", "interop");
    }

    private string Home { get; }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Inspector_ServerEverythingThroughProxy_SameToolsAndResultsAsDirectAndReceiptsLogged()
    {
        // A node option in the server's command line: without the "--" it would be taken for a proxy option.
        string[] server = ["node", "--no-warnings", InteropPeers.Server("server-everything"), "stdio"];
        string[][] requests =
        [
            ["--method", "tools/list"],
            ["--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=hello through signet"],
            ["--method", "tools/call", "--tool-name", "get-sum", "--tool-arg", "a=2", "b=40"],
        ];

        foreach (var request in requests)
        {
            var direct = await InspectAsync([.. server, .. request]);
            var proxied = await InspectAsync([SignetProcess.Executable, "proxy", "--home", Home, "--", .. server, .. request]);

            Assert.Equal(direct, proxied);
        }
        Assert.Contains("\"name\": \"echo\"", await InspectAsync([.. server, "--method", "tools/list"]), StringComparison.Ordinal);
        AssertReceipts(calls: 2);
    }

    [Fact]
    public async Task Inspector_ServerFilesystemThroughProxy_SameToolsAndResultsAsDirectAndReceiptsLogged()
    {
        var allowed = Directory.CreateDirectory(_dir.File("files")).FullName;
        File.WriteAllText(Path.Combine(allowed, "note.txt"), "signed");
        string[] server = ["node", InteropPeers.Server("server-filesystem"), allowed];
        string[][] requests =
        [
            ["--method", "tools/list"],
            ["--method", "tools/call", "--tool-name", "list_directory", "--tool-arg", $"path={allowed}"],
        ];

        foreach (var request in requests)
        {
            var direct = await InspectAsync([.. server, .. request]);
            var proxied = await InspectAsync([SignetProcess.Executable, "proxy", "--home", Home, "--durability", "fast", "--", .. server, .. request]);

            Assert.Equal(direct, proxied);
        }
        Assert.Contains("[FILE] note.txt", await InspectAsync([.. server, .. requests[1]]), StringComparison.Ordinal);
        AssertReceipts(calls: 1);
    }

    [Fact]
    public async Task Inspector_ServerArgumentsThatLookLikeProxyOptions_ReachTheServerUnchanged()
    {
        // The Inspector drops the "--", so the proxy sees `proxy --home H node argv-server.js --name … --verbose`: those
        // options belong to the server, which answers with the arguments it got.
        var script = _dir.File("argv-server.js");
        File.WriteAllText(script, """
            const rl = require('readline').createInterface({ input: process.stdin });
            const send = (id, result) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id, result }) + '\n');
            rl.on('line', line => {
              const m = JSON.parse(line);
              if (m.id === undefined) return;
              if (m.method === 'initialize') send(m.id, { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'argv', version: '1' } });
              else if (m.method === 'tools/list') send(m.id, { tools: [{ name: 'argv', inputSchema: { type: 'object' } }] });
              else if (m.method === 'tools/call') send(m.id, { content: [{ type: 'text', text: JSON.stringify(process.argv.slice(2)) }] });
              else send(m.id, {});
            });
            """);
        string[] server = ["node", script, "--name", "server-side", "--verbose", "--target", "x"];
        string[] request = ["--method", "tools/call", "--tool-name", "argv"];

        var direct = await InspectAsync([.. server, .. request]);
        var proxied = await InspectAsync([SignetProcess.Executable, "proxy", "--home", Home, "--", .. server, .. request]);

        Assert.Contains("[\\\"--name\\\",\\\"server-side\\\",\\\"--verbose\\\",\\\"--target\\\",\\\"x\\\"]", direct, StringComparison.Ordinal);
        Assert.Equal(direct, proxied);
        AssertReceipts(calls: 1);
        var request1 = Directory.GetFiles(Path.Combine(Home, "audit"), "*.jsonl").SelectMany(File.ReadLines)
            .Select(l => JsonNode.Parse(l)!["receipt"]!).First(r => (int)r["v"]! == 1);
        Assert.Equal("default", (string?)request1["signer"]!["name"]);
        Assert.Equal("mcp://argv-server.js", (string?)request1["action"]!["target"]);
    }

    private void AssertReceipts(int calls)
    {
        var audit = Path.Combine(Home, "audit");
        var result = AuditVerifier.Verify(audit, new AuditVerifyOptions { VerifySignatures = true });
        Assert.True(result.IsValid, result.Break?.Message ?? string.Join("; ", result.SignatureFailures.Select(f => f.Reason)));
        var receipts = Directory.GetFiles(audit, "*.jsonl").SelectMany(File.ReadLines).Select(l => JsonNode.Parse(l)!["receipt"]!).ToList();
        Assert.Equal(calls, receipts.Count(r => (int)r["v"]! == 1));
        Assert.Equal(calls, receipts.Count(r => (int)r["v"]! == 2));
    }

    /// <summary>Runs the Inspector's CLI as <c>npx @modelcontextprotocol/inspector --cli ARGS…</c> does; returns its stdout.</summary>
    private static async Task<string> InspectAsync(string[] args)
    {
        var info = new ProcessStartInfo(NpmPeers.Node) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Inspector.Cli);
        info.ArgumentList.Add("--cli");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("SIGNET_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(name);
        }
        using var process = Process.Start(info)!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = await process.StandardOutput.ReadToEndAsync().WaitAsync(SignetProcess.Timeout);
            await process.WaitForExitAsync().WaitAsync(SignetProcess.Timeout);
            Assert.True(process.ExitCode == 0, $"the Inspector failed ({process.ExitCode}) for {string.Join(' ', args)}: {await stderr}");
            return stdout;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>
    /// Where the Inspector is: the pinned peer in tests/interop/node_modules, or the node_modules folder named by
    /// SIGNET_TEST_INSPECTOR_NODE_MODULES (for a machine whose shared peers predate it).
    /// </summary>
    private static class Inspector
    {
        public static string Cli
        {
            get
            {
                var modules = Environment.GetEnvironmentVariable("SIGNET_TEST_INSPECTOR_NODE_MODULES") is { Length: > 0 } custom ? custom : NpmPeers.NodeModules;
                var cli = Path.Combine(modules, "@modelcontextprotocol", "inspector", "cli", "build", "cli.js");
                return File.Exists(cli) ? cli : throw new InvalidOperationException(
                    $"The MCP Inspector is not installed ({cli} is missing): run `bash test.sh` (it installs the npm peers), " +
                    "or install @modelcontextprotocol/inspector at the version in tests/interop/package.json into a folder and set " +
                    "SIGNET_TEST_INSPECTOR_NODE_MODULES to its node_modules.");
            }
        }
    }
}
