using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Signet.Cli.Tests.Commands;

public sealed class WrapCommandsTests : IDisposable
{
    private const string SignetPath = "/opt/signet/signet";

    private readonly string _root = Directory.CreateTempSubdirectory("signet-wrap-cli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Wrap_ClaudeDesktopSample_WritesBackupAndUnwrapRestoresEveryByte()
    {
        var path = Copy("claude_desktop_config.json", "Claude/claude_desktop_config.json");
        var original = File.ReadAllBytes(path);

        var wrap = await Run("wrap", path, "--signet-command", SignetPath, "--key", "work");

        Assert.Equal(0, wrap.Code);
        Assert.Contains($"{path} (claude-desktop)", wrap.Out, StringComparison.Ordinal);
        Assert.Contains("  wrapped          memory\n", wrap.Out, StringComparison.Ordinal);
        Assert.Contains($"Backup: {path}.signet-backup\n", wrap.Out, StringComparison.Ordinal);
        Assert.Equal(original, File.ReadAllBytes(path + ".signet-backup"));
        var memory = Parse(path)["mcpServers"]!["memory"]!;
        Assert.Equal(SignetPath, memory["command"]!.GetValue<string>());
        Assert.Equal("proxy --target mcp://memory --key work -- node /opt/mcp/server-memory/dist/index.js", string.Join(' ', memory["args"]!.AsArray()));
        Assert.Equal("correct horse battery staple", memory["env"]!["SIGNET_PASSPHRASE"]!.GetValue<string>());

        var unwrap = await Run("unwrap", path);

        Assert.Equal(0, unwrap.Code);
        Assert.Contains("  unwrapped        memory\n", unwrap.Out, StringComparison.Ordinal);
        Assert.Equal(original, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Wrap_AlreadyWrapped_ReportsAndWritesNothing()
    {
        var path = Copy("mcp.json", ".mcp.json");
        await Run("wrap", path, "--signet-command", SignetPath);
        var wrapped = File.ReadAllBytes(path);
        var backups = Directory.GetFiles(_root, "*.signet-backup*").Length;

        var again = await Run("wrap", path, "--signet-command", SignetPath);

        Assert.Equal(0, again.Code);
        Assert.Contains("  already wrapped  sentry\n", again.Out, StringComparison.Ordinal);
        Assert.Contains("No change; the file was not written.", again.Out, StringComparison.Ordinal);
        Assert.Equal(wrapped, File.ReadAllBytes(path));
        Assert.Equal(backups, Directory.GetFiles(_root, "*.signet-backup*").Length);
    }

    [Fact]
    public async Task Wrap_DryRun_PrintsDiffAndWritesNothing()
    {
        var path = Copy("vscode_mcp.json", ".vscode/mcp.json");
        var original = File.ReadAllBytes(path);

        var result = await Run("wrap", ".vscode/mcp.json", "--dry-run", "--server", "notes", "--signet-command", SignetPath);

        Assert.Equal(0, result.Code);
        Assert.Contains($"--- {path}\n+++ {path} (wrapped)\n", result.Out, StringComparison.Ordinal);
        Assert.Contains("-\t\t\t\"command\": \"python\",\n-\t\t\t\"args\": [\"-m\", \"notes_mcp\",],\n", result.Out, StringComparison.Ordinal);
        Assert.Contains("+\t\t\t\"args\": [\"proxy\", \"--target\", \"mcp://notes\", \"--\", \"python\", \"-m\", \"notes_mcp\",],\n", result.Out, StringComparison.Ordinal);
        Assert.Contains("  would wrap       notes\n", result.Out, StringComparison.Ordinal);
        Assert.Contains("  not selected     filesystem\n", result.Out, StringComparison.Ordinal);
        Assert.Contains("Dry run: nothing was written.", result.Out, StringComparison.Ordinal);
        Assert.Equal(original, File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(_root, "*.signet-backup*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Wrap_MalformedConfig_ReportsFileLineAndColumnAndLeavesItUntouched()
    {
        var path = Path.Combine(_root, "claude_desktop_config.json");
        File.WriteAllText(path, "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\"}\n    \"b\": {}\n  }\n}\n");
        var original = File.ReadAllBytes(path);

        var result = await Run("wrap", path, "--signet-command", SignetPath);

        Assert.Equal(1, result.Code);
        Assert.StartsWith($"signet: {path}:4:5: not valid JSON", result.Error, StringComparison.Ordinal);
        Assert.Equal(original, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_root));
    }

    [Fact]
    public async Task Wrap_UnknownServer_IsAUsageErrorThatNamesTheServers()
    {
        var path = Copy("cursor_mcp.json", ".cursor/mcp.json");

        var result = await Run("wrap", path, "--server", "postgress", "--signet-command", SignetPath);

        Assert.Equal(2, result.Code);
        Assert.Contains("no server named 'postgress'", result.Error, StringComparison.Ordinal);
        Assert.Contains("postgres, context7, browser", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrap_MissingConfigArgument_IsAUsageError()
    {
        var result = await Run("wrap", "--signet-command", SignetPath);

        Assert.Equal(2, result.Code);
        Assert.Contains("signet wrap --list", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrap_ProxyOptions_AreWrittenBeforeTheSeparatorWithAbsoluteHome()
    {
        var path = Copy("gemini_settings.json", ".gemini/settings.json");

        var result = await Run("wrap", path, "--server", "pythonTools", "--signet-command", SignetPath,
            "--home", "signet-home", "--durability", "fast", "--fail-open", "--target", "mcp://tools", "--passphrase-file", "pass.txt",
            "--proxy-arg", "--verbose");

        Assert.Equal(0, result.Code);
        var args = Parse(path)["mcpServers"]!["pythonTools"]!["args"]!.AsArray().Select(a => a!.GetValue<string>());
        Assert.Equal(
            ["proxy", "--home", Path.Combine(_root, "signet-home"), "--durability", "fast", "--fail-open",
             "--target", "mcp://tools", "--passphrase-file", Path.Combine(_root, "pass.txt"), "--verbose",
             "--", "python", "-m", "my_mcp_server", "--port", "8080"],
            args);
    }

    [Theory]
    [InlineData("--client", "zed")]
    [InlineData("--json")]
    public async Task Wrap_BadClientOrStrayJson_IsAUsageError(params string[] extra)
    {
        var path = Copy("mcp.json", ".mcp.json");
        var original = File.ReadAllBytes(path);

        var result = await Run(["wrap", path, "--signet-command", SignetPath, .. extra]);

        Assert.Equal(2, result.Code);
        Assert.Equal(original, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Wrap_BadDurability_IsAUsageError()
    {
        var path = Copy("mcp.json", ".mcp.json");

        var result = await Run("wrap", path, "--durability", "sometimes", "--signet-command", SignetPath);

        Assert.Equal(2, result.Code);
    }

    [Fact]
    public async Task Wrap_NoSignetCommand_UsesTheToolInstalledOnPath()
    {
        var path = Copy("mcp.json", ".mcp.json");
        var tools = Path.Combine(_root, "tools");
        Directory.CreateDirectory(Path.Combine(tools, ".store", "signet.cli"));
        var shim = Path.Combine(tools, OperatingSystem.IsWindows() ? "signet.exe" : "signet");
        File.WriteAllBytes(shim, []);

        var result = await Run(new Dictionary<string, string> { ["PATH"] = tools }, "wrap", path);

        Assert.Equal(0, result.Code);
        Assert.Equal(shim, Parse(path)["mcpServers"]!["everything"]!["command"]!.GetValue<string>());
    }

    [Fact]
    public async Task WrapList_HomeAndProject_ShowsFilesServersAndState()
    {
        var home = Path.Combine(_root, "home");
        var claude = Path.Combine(home, ".claude.json");
        Directory.CreateDirectory(home);
        File.Copy(Sample("claude.json"), claude);
        await Run("wrap", claude, "--server", "docs", "--signet-command", SignetPath);
        var vscode = Copy("vscode_mcp.json", ".vscode/mcp.json");
        var broken = Path.Combine(_root, ".cursor", "mcp.json");
        Directory.CreateDirectory(Path.GetDirectoryName(broken)!);
        File.WriteAllText(broken, "{\"mcpServers\": {,}}");
        var env = new Dictionary<string, string> { ["HOME"] = home, ["USERPROFILE"] = home };

        var result = await Run(env, "wrap", "--list");

        Assert.Equal(0, result.Code);
        Assert.Contains($"{claude} (claude-code, user)\n", result.Out, StringComparison.Ordinal);
        Assert.Contains("  not wrapped  mcpServers.everything  node /home/alice/mcp/server-everything/dist/index.js stdio\n", result.Out, StringComparison.Ordinal);
        Assert.Contains("  wrapped      projects[\"/home/alice/src/shop\"].mcpServers.docs  http://127.0.0.1:3201/mcp\n", result.Out, StringComparison.Ordinal);
        Assert.Contains($"{vscode} (vscode, project)\n  not wrapped  filesystem  npx -y @modelcontextprotocol/server-filesystem ${{workspaceFolder}}\n", result.Out, StringComparison.Ordinal);
        Assert.Contains($"{broken} (cursor, project)\n  error: {broken}:1:17: not valid JSON", result.Out, StringComparison.Ordinal);

        var json = await Run(env, "wrap", "--list", "--json");

        var files = JsonNode.Parse(json.Out)!.AsArray();
        Assert.Equal(3, files.Count);
        Assert.Equal("wrapped", files[0]!["servers"]![2]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Wrap_RunFromBuildOutput_RefusesWithInstallAdviceUnlessTheCommandIsGiven()
    {
        // The test's bin folder is a build output (bin beside a project file), like that of dotnet run.
        var apphost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "signet.exe" : "signet");
        var dll = Path.Combine(AppContext.BaseDirectory, "signet.dll");
        var dotnet = FindDotnet();

        foreach (var (file, arguments) in new[] { (apphost, Array.Empty<string>()), (dotnet, new[] { dll }) })
        {
            var path = Copy("claude_desktop_config.json", $"{Path.GetFileName(file)}/claude_desktop_config.json");
            var original = File.ReadAllBytes(path);
            var refused = await Process(file, [.. arguments, "wrap", path, "--server", "memory"], new Dictionary<string, string> { ["PATH"] = "" });
            Assert.Equal(1, refused.Code);
            Assert.Contains("bash pack.sh && dotnet tool install -g Signet.Cli --add-source out/tool", refused.Error, StringComparison.Ordinal);
            Assert.Equal(original, File.ReadAllBytes(path));

            var wrap = await Process(file, [.. arguments, "wrap", path, "--server", "memory", "--signet-command", arguments.Length == 0 ? apphost : dll]);
            Assert.True(wrap.Code == 0, wrap.Error);

            var entry = Parse(path)["mcpServers"]!["memory"]!;
            var command = entry["command"]!.GetValue<string>();
            var args = entry["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
            Assert.True(Path.IsPathRooted(command), command);
            Assert.Equal(Resolved(file), Resolved(command));
            Assert.Equal(arguments, args.TakeWhile(a => a != "proxy"));

            // The client starts exactly this command line; ask it for its version instead of a proxy.
            var launched = await Process(command, [.. args.TakeWhile(a => a != "proxy"), "--version"]);
            Assert.True(launched.Code == 0, launched.Error);
            Assert.StartsWith("0.1.0", launched.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Wrap_TwoServersOfOneScriptName_ReceiptsNameTheAgentAsSignerAndEachServerAsTarget()
    {
        var home = Path.Combine(_root, "home");
        Signet.Keys.KeyStore.ForHome(home).CreateUnencrypted("agent-7");
        var path = Path.Combine(_root, "claude_desktop_config.json");
        var servers = new JsonObject();
        foreach (var name in new[] { "notes", "tickets" })
        {
            Directory.CreateDirectory(Path.Combine(_root, name));
            File.WriteAllText(Path.Combine(_root, name, "index.js"), """
                require('readline').createInterface({ input: process.stdin }).on('line', l => {
                  const m = JSON.parse(l);
                  if (m.id !== undefined) process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { content: [] } }) + '\n');
                });
                """);
            servers[name] = new JsonObject { ["command"] = "node", ["args"] = new JsonArray(Path.Combine(_root, name, "index.js")) };
        }
        File.WriteAllText(path, new JsonObject { ["mcpServers"] = servers }.ToJsonString());

        var wrap = await Run("wrap", path, "--signet-command", SignetProcess.Executable, "--key", "agent-7", "--home", home);
        Assert.Equal(0, wrap.Code);
        Assert.Equal("", wrap.Error);

        foreach (var name in new[] { "notes", "tickets" })
        {
            // Start the entry exactly as the client would.
            var entry = Parse(path)["mcpServers"]![name]!;
            Assert.Equal(SignetProcess.Executable, entry["command"]!.GetValue<string>());
            await using var proxy = SignetProcess.Start(entry["args"]!.AsArray().Select(a => a!.GetValue<string>()), new Dictionary<string, string?>());
            await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"add\",\"arguments\":{}}}\n");
            Assert.Contains("\"id\":1", await proxy.ReadLineAsync(), StringComparison.Ordinal);
            Assert.Equal(0, await proxy.CloseInputAndWaitAsync());
        }

        var shown = await Run("log", "show", "--signer", "agent-7", "--json", "--home", home);
        var receipts = shown.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["receipt"]!).ToList();
        Assert.Equal(4, receipts.Count); // the request and response receipt of each call
        var requests = receipts.Where(r => r["v"]!.GetValue<int>() == 1).ToList();
        Assert.Equal(["mcp://notes", "mcp://tickets"], requests.Select(r => r["action"]!["target"]!.GetValue<string>()).ToArray());
        Assert.All(requests, r => Assert.Equal("agent-7", r["signer"]!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Wrap_NoKeyInTheHome_WarnsWithTheCommandThatCreatesIt()
    {
        var path = Copy("mcp.json", ".mcp.json");
        var home = Path.Combine(_root, "empty-home");

        var result = await Run("wrap", path, "--signet-command", SignetPath, "--home", home, "--key", "agent");

        Assert.Equal(0, result.Code);
        Assert.Contains($"warning: there is no key \"agent\" in {Path.Combine(home, "keys")}, so ", result.Error, StringComparison.Ordinal);
        Assert.Contains($"Create it with: signet key new agent --home {home}", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrap_EntryNamesAnInvalidKey_WarnsInsteadOfFailing()
    {
        var path = Path.Combine(_root, "claude_desktop_config.json");
        File.WriteAllText(path, """{"mcpServers": {"odd": {"command": "node", "args": ["a.js"], "env": {"SIGNET_KEY": "no such/key"}}}}""");

        var result = await Run("wrap", path, "--signet-command", SignetPath, "--home", Path.Combine(_root, "home"));

        Assert.Equal(0, result.Code);
        Assert.Contains("warning: odd will fail to start: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("  wrapped          odd\n", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrap_Pkcs11KeyWithoutPin_WarnsForEachServerThatHasNoneAndLooksForNoKeyFile()
    {
        var path = Path.Combine(_root, "claude_desktop_config.json");
        File.WriteAllText(path, """
            {"mcpServers": {
              "locked": {"command": "node", "args": ["a.js"]},
              "unlocked": {"command": "node", "args": ["b.js"], "env": {"SIGNET_PKCS11_PIN": "1234"}}
            }}
            """);
        const string Uri = "pkcs11:token=Agent;object=agent";

        var result = await Run("wrap", path, "--signet-command", SignetPath, "--home", Path.Combine(_root, "home"), "--key", Uri);

        Assert.Equal(0, result.Code);
        Assert.Contains($"warning: locked sign with the PKCS#11 key {Uri} but has no PIN for its token", result.Error, StringComparison.Ordinal);
        Assert.Contains("\"env\": { \"SIGNET_PKCS11_PIN\": \"<PIN>\" }", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("unlocked", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("there is no key", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("will fail to start: ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrap_Agent_WrittenIntoTheProxyArgsAndNoPassphraseWarningForTheEncryptedKey()
    {
        var home = Path.Combine(_root, "home");
        var created = await Run(new Dictionary<string, string> { ["SIGNET_PASSPHRASE"] = "pw", ["SIGNET_HOME"] = home }, "key", "new", "default");
        Assert.Equal(0, created.Code);
        var path = Path.Combine(_root, "claude_desktop_config.json");
        File.WriteAllText(path, """
            {"mcpServers": {"tools": {"command": "node", "args": ["a.js"]}}}
            """);
        var socket = Path.Combine(_root, "agent.sock");

        var result = await Run(new Dictionary<string, string> { ["SIGNET_HOME"] = home }, "wrap", path, "--signet-command", SignetPath, "--agent", socket);

        Assert.Equal(0, result.Code);
        Assert.Equal("", result.Error);
        var args = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!["mcpServers"]!["tools"]!["args"]!.AsArray().Select(a => (string?)a).ToList();
        Assert.Equal(socket, args[args.IndexOf("--agent") + 1]);
    }

    [Fact]
    public async Task Wrap_EncryptedKeyWithoutPassphrase_WarnsForEachServerThatHasNone()
    {
        var home = Path.Combine(_root, "home");
        var created = await Run(new Dictionary<string, string> { ["SIGNET_PASSPHRASE"] = "pw", ["SIGNET_HOME"] = home }, "key", "new", "default");
        Assert.Equal(0, created.Code);
        var path = Path.Combine(_root, "claude_desktop_config.json");
        File.WriteAllText(path, """
            {"mcpServers": {
              "locked": {"command": "node", "args": ["a.js"]},
              "unlocked": {"command": "node", "args": ["b.js"], "env": {"SIGNET_PASSPHRASE": "pw"}}
            }}
            """);
        var env = new Dictionary<string, string> { ["SIGNET_HOME"] = home };

        var result = await Run(env, "wrap", path, "--signet-command", SignetPath);
        var withFile = await Run(env, "wrap", Copy("mcp.json", "other/.mcp.json"), "--signet-command", SignetPath, "--passphrase-file", "pw.txt");

        Assert.Equal(0, result.Code);
        Assert.Contains("warning: key \"default\" is encrypted and locked has no passphrase for it", result.Error, StringComparison.Ordinal);
        Assert.Contains("\"env\": { \"SIGNET_PASSPHRASE\": \"<passphrase>\" }", result.Error, StringComparison.Ordinal);
        Assert.Contains($"--store-passphrase", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("unlocked", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, withFile.Code);
        Assert.Equal("", withFile.Error);
    }

    [Fact]
    public async Task Wrap_StorePassphrase_WritesItOwnerOnlyAndUnwrapRemovesItAndSaysSo()
    {
        var path = Copy("claude_desktop_config.json", "Claude/claude_desktop_config.json");
        var original = File.ReadAllBytes(path);
        var env = new Dictionary<string, string> { ["SIGNET_PASSPHRASE"] = "from the shell" };

        var wrap = await Run(env, "wrap", path, "--signet-command", SignetPath, "--store-passphrase");
        var without = await Run("wrap", Copy("mcp.json", "x/.mcp.json"), "--signet-command", SignetPath, "--store-passphrase");

        Assert.Equal(0, wrap.Code);
        var servers = Parse(path)["mcpServers"]!.AsObject();
        Assert.All(servers, s => Assert.NotNull(s.Value!["env"]!["SIGNET_PASSPHRASE"]));
        Assert.Equal("correct horse battery staple", servers["memory"]!["env"]!["SIGNET_PASSPHRASE"]!.GetValue<string>());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        Assert.Equal(2, without.Code);

        var unwrap = await Run("unwrap", path);

        Assert.Equal(0, unwrap.Code);
        Assert.Contains("  unwrapped        filesystem (removed SIGNET_PASSPHRASE, which wrap added)\n", unwrap.Out, StringComparison.Ordinal);
        Assert.Contains("  unwrapped        memory\n", unwrap.Out, StringComparison.Ordinal);
        Assert.Equal(original, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Wrap_ManyTimes_KeepsTheNewestFiveBackups()
    {
        var path = Copy("mcp.json", ".mcp.json");

        for (var i = 0; i < 7; i++)
        {
            Assert.Equal(0, (await Run("wrap", path, "--signet-command", SignetPath)).Code);
            Assert.Equal(0, (await Run("unwrap", path)).Code);
        }

        Assert.Equal(5, Directory.GetFiles(_root, ".mcp.json.signet-backup*").Length);
    }

    private string Copy(string sample, string relative)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(Sample(sample), path);
        return path;
    }

    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "Config", "TestData", name);

    private static JsonNode Parse(string path) => JsonNode.Parse(File.ReadAllBytes(path), documentOptions: new JsonDocumentOptions
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    })!;

    private Task<(int Code, string Out, string Error)> Run(params string[] args) => Run(new Dictionary<string, string>(), args);

    private async Task<(int Code, string Out, string Error)> Run(Dictionary<string, string> env, params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var console = new CliConsole
        {
            In = new StringReader(""),
            Out = output,
            Error = error,
            GetEnvironmentVariable = name => env.TryGetValue(name, out var value) ? value : null,
            WorkingDirectory = _root,
        };
        var code = await SignetCli.RunAsync(args, console);
        return (code, output.ToString(), error.ToString());
    }

    private static async Task<(int Code, string Out, string Error)> Process(string file, string[] args, Dictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in env ?? [])
        {
            start.Environment[name] = value;
        }
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private static string Resolved(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);

    private static string FindDotnet()
    {
        var root = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(root) && File.Exists(root))
        {
            return root;
        }
        var name = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("dotnet is not on PATH");
    }
}
