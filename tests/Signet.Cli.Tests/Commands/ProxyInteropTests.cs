using System.Diagnostics;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Keys;
using Signet.Mcp.Tests.Interop;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Cli.Tests.Commands;

/// <summary>
/// The official TypeScript SDK client → <c>signet proxy</c> → the reference MCP servers from npm. Every call must return
/// exactly what it returns without the proxy, and every receipt must verify.
/// </summary>
public sealed class ProxyInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public ProxyInteropTests()
    {
        Home = _dir.File("home");
        KeyStore.ForHome(Home).CreateUnencrypted("default", "interop");
    }

    private string Home { get; }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("durable")]
    [InlineData("fast")]
    public async Task Proxy_ServerEverything_ResultsIdenticalToDirectAndReceiptsVerify(string durability)
    {
        string[] server = ["node", InteropPeers.Server("server-everything"), "stdio"];

        var direct = await RunClientAsync("everything", server, new Dictionary<string, string?>());
        var proxied = await RunClientAsync("everything", ["--durability", durability], server, new Dictionary<string, string?>());

        Assert.Equal(direct, proxied);
        // 10 single calls and 16 parallel echoes, each with a v1 and a v2 receipt.
        AssertChain(expectedCalls: 26);
    }

    [Fact]
    public async Task Proxy_UrlToServerEverythingOverStreamableHttp_ResultsIdenticalToDirectStdioAndReceiptsVerify()
    {
        var direct = await RunClientAsync("everything", ["node", InteropPeers.Server("server-everything"), "stdio"], new Dictionary<string, string?>());
        var (server, endpoint) = await InteropPeers.StartHttpServerEverythingAsync();
        try
        {
            var proxied = await RunNodeAsync([InteropPeers.Script, "everything", SignetProcess.Executable, "proxy", "--home", Home, "--url", endpoint.ToString()], new Dictionary<string, string?>());

            Assert.Equal(direct, proxied);
            AssertChain(expectedCalls: 26);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            server.Dispose();
        }
    }

    [Fact]
    public async Task Proxy_ServerFilesystem_ResultsIdenticalToDirectAndReceiptsVerify()
    {
        var allowed = Directory.CreateDirectory(_dir.File("files")).FullName;
        string[] server = ["node", InteropPeers.Server("server-filesystem"), allowed];
        var env = new Dictionary<string, string?> { ["INTEROP_DIR"] = allowed };

        var direct = await RunClientAsync("filesystem", server, env);
        File.Delete(Path.Combine(allowed, "note.txt"));
        var proxied = await RunClientAsync("filesystem", [], server, env);

        Assert.Equal(direct, proxied);
        AssertChain(expectedCalls: 5);
    }

    [Fact]
    public async Task Proxy_ServerMemory_ResultsIdenticalToDirectAndReceiptsVerify()
    {
        string[] server = ["node", InteropPeers.Server("server-memory")];

        var direct = await RunClientAsync("memory", server, new Dictionary<string, string?> { ["MEMORY_FILE_PATH"] = _dir.File("direct.jsonl") });
        var proxied = await RunClientAsync("memory", [], server, new Dictionary<string, string?> { ["MEMORY_FILE_PATH"] = _dir.File("proxied.jsonl") });

        Assert.Equal(direct, proxied);
        AssertChain(expectedCalls: 4);
    }

    [Theory]
    [InlineData("claude-desktop")]
    [InlineData("vscode")]
    public async Task Wrap_ClientConfigThenLaunchItsEntry_ResultsIdenticalToDirectAndUnwrapRestoresFile(string client)
    {
        var server = InteropPeers.Server("server-everything");
        string path, original;
        if (client == "vscode")
        {
            path = Path.Combine(Directory.CreateDirectory(_dir.File(".vscode")).FullName, "mcp.json");
            original = $$"""
                {
                  // Tool servers for this workspace (JSONC: comments and trailing commas must survive).
                  "servers": {
                    "everything": { "type": "stdio", "command": "node", "args": ["{{server}}", "stdio"], },
                  },
                }

                """;
        }
        else
        {
            path = _dir.File("claude_desktop_config.json");
            original = $$"""
                {
                  "mcpServers": {
                    "everything": { "command": "node", "args": ["{{server}}", "stdio"] }
                  }
                }

                """;
        }
        await File.WriteAllTextAsync(path, original);

        var wrap = await CliRunner.RunAsync(["wrap", path, "--home", Home, "--signet-command", SignetProcess.Executable]);
        Assert.True(wrap.ExitCode == 0, wrap.Error);
        var wrappedText = await File.ReadAllTextAsync(path);
        Assert.Equal(client == "vscode", wrappedText.Contains("// Tool servers", StringComparison.Ordinal));
        var config = JsonNode.Parse(wrappedText, documentOptions: new System.Text.Json.JsonDocumentOptions
        {
            CommentHandling = System.Text.Json.JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        })!;
        var entry = config[client == "vscode" ? "servers" : "mcpServers"]!["everything"]!;
        Assert.Equal(SignetProcess.Executable, entry["command"]!.GetValue<string>());
        string[] launched = [entry["command"]!.GetValue<string>(), .. entry["args"]!.AsArray().Select(a => a!.GetValue<string>())];

        // Launch the entry exactly as the client would: command and args from the wrapped file.
        var direct = await RunClientAsync("everything", ["node", server, "stdio"], new Dictionary<string, string?>());
        var viaConfig = await RunNodeAsync([InteropPeers.Script, "everything", .. launched], new Dictionary<string, string?>());
        Assert.Equal(direct, viaConfig);
        AssertChain(expectedCalls: 26);

        var unwrap = await CliRunner.RunAsync(["unwrap", path]);
        Assert.True(unwrap.ExitCode == 0, unwrap.Error);
        Assert.Equal(original, await File.ReadAllTextAsync(path));
    }

    private void AssertChain(int expectedCalls)
    {
        var audit = Path.Combine(Home, "audit");
        var result = AuditVerifier.Verify(audit, new AuditVerifyOptions { VerifySignatures = true });
        Assert.True(result.IsValid, result.Break?.Message ?? string.Join("; ", result.SignatureFailures.Select(f => f.Reason)));
        Assert.Equal(2 * expectedCalls, result.RecordCount);
        var versions = Directory.GetFiles(audit, "*.jsonl")
            .SelectMany(File.ReadLines)
            .Select(line => (int)JsonNode.Parse(line)!["receipt"]!["v"]!)
            .ToList();
        Assert.Equal(expectedCalls, versions.Count(v => v == 1));
        Assert.Equal(expectedCalls, versions.Count(v => v == 2));
    }

    private Task<string> RunClientAsync(string scenario, string[] server, IReadOnlyDictionary<string, string?> env) =>
        RunNodeAsync([InteropPeers.Script, scenario, .. server], env);

    private Task<string> RunClientAsync(string scenario, string[] proxyOptions, string[] server, IReadOnlyDictionary<string, string?> env) =>
        RunNodeAsync([InteropPeers.Script, scenario, SignetProcess.Executable, "proxy", "--home", Home, .. proxyOptions, "--", .. server], env);

    private static async Task<string> RunNodeAsync(string[] args, IReadOnlyDictionary<string, string?> env)
    {
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in env)
        {
            info.Environment[name] = value;
        }
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync().WaitAsync(SignetProcess.Timeout);
        await process.WaitForExitAsync().WaitAsync(SignetProcess.Timeout);
        Assert.True(process.ExitCode == 0, $"interop client failed ({process.ExitCode}): {await stderr}");
        return stdout;
    }
}

/// <summary>The pinned npm peers in tests/interop (installed by test.sh with npm ci), through the shared locator.</summary>
internal static class InteropPeers
{
    public static string Script => Path.Combine(NpmPeers.InteropDirectory, "proxy-interop.mjs");

    public static string Server(string package) => package switch
    {
        "server-everything" => NpmPeers.ServerEverything,
        "server-filesystem" => NpmPeers.ServerFilesystem,
        "server-memory" => NpmPeers.ServerMemory,
        _ => throw new ArgumentOutOfRangeException(nameof(package), package, "not a pinned peer"),
    };

    /// <summary>Starts server-everything in Streamable HTTP mode on a free port; returns once it listens.</summary>
    public static Task<(Process Process, Uri Endpoint)> StartHttpServerEverythingAsync() => HttpServerEverything.StartAsync();
}
