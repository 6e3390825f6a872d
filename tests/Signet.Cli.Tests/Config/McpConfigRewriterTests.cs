using System.Text;
using System.Text.Json.Nodes;
using Signet.Cli.Config;

namespace Signet.Cli.Tests.Config;

public sealed class McpConfigRewriterTests
{
    [Theory]
    [MemberData(nameof(Samples.All), MemberType = typeof(Samples))]
    public void WrapThenUnwrap_EachSample_IsByteIdentical(string file, object clientValue)
    {
        var client = (McpClientApp)clientValue; // the enum is internal to the CLI, so theories receive it boxed
        var original = Samples.Bytes(file);

        var wrapped = McpConfigRewriter.Wrap(original, client, Samples.Options);
        var unwrapped = McpConfigRewriter.Unwrap(wrapped.Result, client);

        Assert.True(wrapped.Changed);
        Assert.Equal(Samples.Text(original), Samples.Text(unwrapped.Result));
        Assert.All(unwrapped.Servers, s => Assert.Contains(s.Action, new[] { McpServerAction.Unwrapped, McpServerAction.Unsupported }));
    }

    [Theory]
    [MemberData(nameof(Samples.All), MemberType = typeof(Samples))]
    public void Wrap_Twice_EqualsWrapOnce(string file, object clientValue)
    {
        var client = (McpClientApp)clientValue; // the enum is internal to the CLI, so theories receive it boxed
        var once = McpConfigRewriter.Wrap(Samples.Bytes(file), client, Samples.Options);
        var twice = McpConfigRewriter.Wrap(once.Result, client, Samples.Options with { ProxyOptions = ["--key", "other"] });

        Assert.False(twice.Changed);
        Assert.Equal(once.Result, twice.Result);
        Assert.All(twice.Servers, s => Assert.Equal(IsSse(s) ? McpServerAction.Unsupported : McpServerAction.AlreadyWrapped, s.Action));
    }

    [Theory]
    [MemberData(nameof(Samples.All), MemberType = typeof(Samples))]
    public void Wrap_EachSample_EveryServerRunsSignetProxyWithItsName(string file, object clientValue)
    {
        var client = (McpClientApp)clientValue; // the enum is internal to the CLI, so theories receive it boxed
        var result = McpConfigRewriter.Wrap(Samples.Bytes(file), client, Samples.Options);

        var root = Samples.Parse(result.Result);
        Assert.NotEmpty(result.Servers);
        foreach (var server in result.Servers.Where(s => !IsSse(s)))
        {
            Assert.Equal(McpServerAction.Wrapped, server.Action);
            var entry = Lookup(root, server.Location)[server.Name]!;
            Assert.Equal(Samples.Signet, entry["command"]!.GetValue<string>());
            Assert.Equal(["proxy", "--target", McpConfigRewriter.TargetFor(server.Name)], Samples.Args(entry)[..3]);
            Assert.Null(entry["url"]);
            Assert.Null(entry["httpUrl"]);
            Assert.True(entry["type"] is null || entry["type"]!.GetValue<string>() == "stdio");
        }
    }

    [Fact]
    public void Wrap_StdioEntry_KeepsOriginalCommandArgsEnvAndUnknownKeys()
    {
        var result = McpConfigRewriter.Wrap(Samples.Bytes("claude_desktop_config.json"), McpClientApp.ClaudeDesktop,
            Samples.Options with { ProxyOptions = ["--key", "work", "--durability", "fast"] });

        var root = Samples.Parse(result.Result);
        var github = root["mcpServers"]!["github"]!;
        Assert.Equal(
            ["proxy", "--target", "mcp://github", "--key", "work", "--durability", "fast", "--", "docker", "run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server"],
            Samples.Args(github));
        Assert.Equal("ghp_example", github["env"]!["GITHUB_PERSONAL_ACCESS_TOKEN"]!.GetValue<string>());
        Assert.False(github["disabled"]!.GetValue<bool>());
        Assert.Equal(["GITHUB_PERSONAL_ACCESS_TOKEN"], github["env"]!.AsObject().Select(p => p.Key));
        Assert.Equal("Ctrl+Space", root["globalShortcut"]!.GetValue<string>());

        // An escaped Windows path moves into args with its escapes intact and decodes to the same string.
        var sqlite = root["mcpServers"]!["sqlite"]!;
        Assert.Equal(["proxy", "--target", "mcp://sqlite", "--key", "work", "--durability", "fast", "--", "C:\\Program Files\\uv\\uvx.exe"], Samples.Args(sqlite));
        Assert.Contains("\"--\", \"C:\\\\Program Files\\\\uv\\\\uvx.exe\"]", Samples.Text(result.Result), StringComparison.Ordinal);
    }

    [Fact]
    public void Wrap_StdioEntryWithoutArgs_RunsCommandAndRecordsOriginal()
    {
        var result = McpConfigRewriter.Wrap(Samples.Bytes("claude_desktop_config.json"), McpClientApp.ClaudeDesktop, Samples.Options);

        var weather = Samples.Parse(result.Result)["mcpServers"]!["weather"]!;
        Assert.Equal(["proxy", "--target", "mcp://weather", "--", "/usr/local/bin/weather-mcp"], Samples.Args(weather));
        Assert.Equal("{\n      \"command\": \"/usr/local/bin/weather-mcp\"\n    }", Recorded(weather));
    }

    [Fact]
    public void Wrap_MultiLineArgs_NewArgumentsFollowTheFileIndentation()
    {
        var result = McpConfigRewriter.Wrap(Samples.Bytes("claude_desktop_config.json"), McpClientApp.ClaudeDesktop, Samples.Options);

        var text = Samples.Text(result.Result);
        Assert.Contains("      \"command\": \"/opt/signet/bin/signet\",\n      \"args\": [\n        \"proxy\",\n        \"--target\",\n        \"mcp://filesystem\",\n        \"--\",\n        \"npx\",\n        \"-y\",", text, StringComparison.Ordinal);
        Assert.Contains("\"args\": [\"proxy\", \"--target\", \"mcp://memory\", \"--\", \"node\", \"/opt/mcp/server-memory/dist/index.js\"]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrap_VsCodeJsonc_CommentsAndTrailingCommasSurvive()
    {
        var original = Samples.Bytes("vscode_mcp.json");

        var result = McpConfigRewriter.Wrap(original, McpClientApp.VsCode, Samples.Options);

        var text = Samples.Text(result.Result);
        foreach (var comment in new[]
        {
            "// Servers for this workspace. See https://code.visualstudio.com/docs/copilot/chat/mcp-servers",
            "/* The filesystem server only sees the workspace. */",
            "\"${workspaceFolder}\", // keep this one",
            "// A local Python server with its own env file.",
        })
        {
            Assert.Contains(comment, text, StringComparison.Ordinal);
        }
        Assert.Contains("\"password\": true,\n\t\t},\n\t],", text, StringComparison.Ordinal);
        Assert.Contains("\"args\": [\"proxy\", \"--target\", \"mcp://notes\", \"--\", \"python\", \"-m\", \"notes_mcp\",],", text, StringComparison.Ordinal);
        Assert.Contains("\t\t\t\"args\": [\n\t\t\t\t\"proxy\",\n", text, StringComparison.Ordinal);
        var root = Samples.Parse(result.Result);
        Assert.Equal("${workspaceFolder}/.env", root["servers"]!["notes"]!["envFile"]!.GetValue<string>());
        Assert.Equal("stdio", root["servers"]!["github"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Wrap_VsCodeHttpEntry_BecomesStdioProxyUrlAndRestoresWithComments()
    {
        var original = Samples.Bytes("vscode_mcp.json");

        var wrapped = McpConfigRewriter.Wrap(original, McpClientApp.VsCode, Samples.Options with { Servers = new HashSet<string> { "github" } });

        var github = Samples.Parse(wrapped.Result)["servers"]!["github"]!;
        Assert.Equal(["proxy", "--target", "mcp://github", "--url", "https://api.githubcopilot.com/mcp/", "--header", "Authorization=Bearer ${input:github-token}"], Samples.Args(github));
        Assert.Equal("http", JsonNode.Parse(Recorded(github), documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true })!["type"]!.GetValue<string>());
        Assert.Contains("// from the prompt above", Samples.Text(wrapped.Result), StringComparison.Ordinal);
        Assert.Equal(Samples.Text(original), Samples.Text(McpConfigRewriter.Unwrap(wrapped.Result, McpClientApp.VsCode).Result));
    }

    [Fact]
    public void Wrap_ClaudeCodeUrlEntries_KeepOtherKeysAndSetStdioType()
    {
        var result = McpConfigRewriter.Wrap(Samples.Bytes("mcp.json"), McpClientApp.ClaudeCode, Samples.Options);

        var servers = Samples.Parse(result.Result)["mcpServers"]!;
        Assert.Equal(["proxy", "--target", "mcp://sentry", "--url", "https://mcp.sentry.dev/mcp", "--header", "Authorization=Bearer ${SENTRY_TOKEN}"], Samples.Args(servers["sentry"]!));
        Assert.Equal("stdio", servers["sentry"]!["type"]!.GetValue<string>());
        Assert.Null(servers["sentry"]!["headers"]);
        Assert.Equal("https://mcp.linear.app/sse", servers["linear"]!["url"]!.GetValue<string>());
        Assert.Equal(McpServerAction.Unsupported, result.Servers.Single(s => s.Name == "linear").Action);
        Assert.Equal("/srv/app", servers["python-tools"]!["cwd"]!.GetValue<string>());
        Assert.Equal(["proxy", "--target", "mcp://python-tools", "--", "uv", "run", "--directory", "${PROJECT_DIR:-.}/tools", "server.py"], Samples.Args(servers["python-tools"]!));
    }

    [Fact]
    public void Wrap_GeminiRemoteServers_KeepTimeoutTrustAndToolFilters()
    {
        var result = McpConfigRewriter.Wrap(Samples.Bytes("gemini_settings.json"), McpClientApp.GeminiCli, Samples.Options);

        var root = Samples.Parse(result.Result);
        var http = root["mcpServers"]!["httpServer"]!;
        Assert.Equal(
            ["proxy", "--target", "mcp://httpServer", "--url", "http://localhost:3000/mcp", "--header", "Authorization=Bearer your-api-token", "--header", "X-Custom-Header=custom-value"],
            Samples.Args(http));
        Assert.Equal(5000, http["timeout"]!.GetValue<int>());
        Assert.False(http["trust"]!.GetValue<bool>());
        Assert.Null(http["type"]);
        Assert.Equal("http://localhost:3000/mcp", JsonNode.Parse(Recorded(http))!["httpUrl"]!.GetValue<string>());
        Assert.Equal("http://localhost:8080/sse", root["mcpServers"]!["sseServer"]!["url"]!.GetValue<string>());
        Assert.Contains("SSE", result.Servers.Single(s => s.Name == "sseServer").Detail, StringComparison.Ordinal);
        Assert.Equal("GEMINI.md", root["contextFileName"]!.GetValue<string>());
        Assert.Equal("./mcp-servers/python", root["mcpServers"]!["pythonTools"]!["cwd"]!.GetValue<string>());
        Assert.Contains(
            "      \"trust\": false,\n      \"env\": { \"SIGNET_WRAP_ORIGINAL\": \"{\\n      \\\"httpUrl\\\": \\\"http://localhost:3000/mcp\\\",",
            Samples.Text(result.Result), StringComparison.Ordinal);
    }

    [Fact]
    public void Wrap_ClaudeJson_WrapsUserAndProjectServers()
    {
        var result = McpConfigRewriter.Wrap(Samples.Bytes("claude.json"), McpClientApp.ClaudeCode, Samples.Options);

        Assert.Equal(
            [("mcpServers", "everything"), ("projects[\"/home/alice/src/shop\"].mcpServers", "filesystem"), ("projects[\"/home/alice/src/shop\"].mcpServers", "docs")],
            result.Servers.Select(s => (s.Location, s.Name)).ToArray());
        var root = Samples.Parse(result.Result);
        var shop = root["projects"]!["/home/alice/src/shop"]!;
        Assert.Equal("proxy", Samples.Args(shop["mcpServers"]!["filesystem"]!)[0]);
        Assert.Equal(["proxy", "--target", "mcp://docs", "--url", "http://127.0.0.1:3201/mcp"], Samples.Args(shop["mcpServers"]!["docs"]!));
        Assert.Equal(42, root["numStartups"]!.GetValue<int>());
        Assert.Equal("add tests", shop["history"]![0]!["display"]!.GetValue<string>());
    }

    [Fact]
    public void Wrap_ServerSelection_ChangesOnlySelectedServers()
    {
        var original = Samples.Bytes("claude_desktop_config.json");

        var result = McpConfigRewriter.Wrap(original, McpClientApp.ClaudeDesktop, Samples.Options with { Servers = new HashSet<string> { "memory" } });

        var servers = Samples.Parse(result.Result)["mcpServers"]!;
        var before = Samples.Parse(original)["mcpServers"]!;
        Assert.Equal(Samples.Signet, servers["memory"]!["command"]!.GetValue<string>());
        foreach (var name in new[] { "filesystem", "github", "sqlite", "weather" })
        {
            Assert.True(JsonNode.DeepEquals(before[name], servers[name]), name);
            Assert.Equal(McpServerAction.NotSelected, result.Servers.Single(s => s.Name == name).Action);
        }
    }

    [Fact]
    public void Unwrap_ServerSelection_RestoresOnlySelectedServers()
    {
        var wrapped = McpConfigRewriter.Wrap(Samples.Bytes("claude_desktop_config.json"), McpClientApp.ClaudeDesktop, Samples.Options).Result;

        var result = McpConfigRewriter.Unwrap(wrapped, McpClientApp.ClaudeDesktop, new HashSet<string> { "github" });

        var servers = Samples.Parse(result.Result)["mcpServers"]!;
        Assert.Equal("docker", servers["github"]!["command"]!.GetValue<string>());
        Assert.Equal(Samples.Signet, servers["memory"]!["command"]!.GetValue<string>());
    }

    [Fact]
    public void WrapThenUnwrap_CrlfAndByteOrderMark_AreKept()
    {
        var text = Samples.Text(Samples.Bytes("vscode_mcp.json")).Replace("\n", "\r\n", StringComparison.Ordinal);
        var original = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(text)).ToArray();

        var wrapped = McpConfigRewriter.Wrap(original, McpClientApp.VsCode, Samples.Options);
        var unwrapped = McpConfigRewriter.Unwrap(wrapped.Result, McpClientApp.VsCode);

        Assert.Equal(original, unwrapped.Result);
        Assert.Equal(Encoding.UTF8.GetPreamble(), wrapped.Result[..3]);
        var wrappedText = Encoding.UTF8.GetString(wrapped.Result, 3, wrapped.Result.Length - 3);
        Assert.DoesNotContain("\n", wrappedText.Replace("\r\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Unwrap_DotnetDllLauncher_IsRecognized()
    {
        var launcher = new SignetLauncher("/usr/share/dotnet/dotnet", ["/opt/signet/signet.dll"]);
        var original = Samples.Bytes("mcp.json");

        var wrapped = McpConfigRewriter.Wrap(original, McpClientApp.ClaudeCode, new McpWrapOptions { Launcher = launcher });

        var entry = Samples.Parse(wrapped.Result)["mcpServers"]!["everything"]!;
        Assert.Equal("/usr/share/dotnet/dotnet", entry["command"]!.GetValue<string>());
        Assert.Equal(["/opt/signet/signet.dll", "proxy", "--target", "mcp://everything", "--", "npx"], Samples.Args(entry)[..6]);
        Assert.False(McpConfigRewriter.Wrap(wrapped.Result, McpClientApp.ClaudeCode, Samples.Options).Changed);
        Assert.Equal(original, McpConfigRewriter.Unwrap(wrapped.Result, McpClientApp.ClaudeCode).Result);
    }

    [Fact]
    public void Wrap_TwoServersRunningTheSameScriptName_GetTheirOwnTargetsAndTheKeySigns()
    {
        var config = """
            {"mcpServers": {
              "notes": {"command": "node", "args": ["/opt/notes/index.js"]},
              "tickets": {"command": "node", "args": ["/opt/tickets/index.js"]}
            }}
            """u8.ToArray();

        var result = McpConfigRewriter.Wrap(config, McpClientApp.ClaudeDesktop, Samples.Options);

        var servers = Samples.Parse(result.Result)["mcpServers"]!;
        Assert.Equal(["proxy", "--target", "mcp://notes", "--", "node", "/opt/notes/index.js"], Samples.Args(servers["notes"]!));
        Assert.Equal(["proxy", "--target", "mcp://tickets", "--", "node", "/opt/tickets/index.js"], Samples.Args(servers["tickets"]!));
        Assert.DoesNotContain("--name", Samples.Text(result.Result), StringComparison.Ordinal);
    }

    [Fact]
    public void Wrap_SignerNameAndOddServerName_WritesNameAndEscapedTarget()
    {
        var config = """{"mcpServers": {"my files/2": {"command": "npx", "args": ["-y", "server-filesystem", "/d"]}}}"""u8.ToArray();

        var result = McpConfigRewriter.Wrap(config, McpClientApp.Cursor, Samples.Options with { SignerName = "billing-agent" });

        Assert.Equal(["proxy", "--name", "billing-agent", "--target", "mcp://my%20files%2F2", "--", "npx", "-y", "server-filesystem", "/d"],
            Samples.Args(Samples.Parse(result.Result)["mcpServers"]!["my files/2"]!));
    }

    [Fact]
    public void Wrap_EntriesWrappedByAnEarlierVersion_AreUpdatedOnceAndStillUnwrap()
    {
        // What earlier versions wrote: the server's name as the signer, no target.
        var config = """
            {"mcpServers": {
              "memory": {"command": "/opt/signet/signet", "args": ["proxy", "--name", "memory", "--key", "work", "--", "node", "/opt/memory/index.js"]},
              "docs": {
                "command": "/opt/signet/signet",
                "args": [
                  "proxy",
                  "--name",
                  "docs",
                  "--url",
                  "http://127.0.0.1:3201/mcp"
                ],
                "env": {"SIGNET_WRAP_ORIGINAL": "{\"url\": \"http://127.0.0.1:3201/mcp\"}"}
              },
              "pinned": {"command": "/opt/signet/signet", "args": ["proxy", "--name", "pinned", "--target", "mcp://custom", "--", "x"]},
              "current": {"command": "/opt/signet/signet", "args": ["proxy", "--target", "mcp://current", "--", "y"]}
            }}
            """u8.ToArray();

        var updated = McpConfigRewriter.Wrap(config, McpClientApp.ClaudeCode, Samples.Options);
        var again = McpConfigRewriter.Wrap(updated.Result, McpClientApp.ClaudeCode, Samples.Options);

        Assert.Equal(
            [McpServerAction.Updated, McpServerAction.Updated, McpServerAction.AlreadyWrapped, McpServerAction.AlreadyWrapped],
            updated.Servers.Select(s => s.Action).ToArray());
        var servers = Samples.Parse(updated.Result)["mcpServers"]!;
        Assert.Equal(["proxy", "--target", "mcp://memory", "--key", "work", "--", "node", "/opt/memory/index.js"], Samples.Args(servers["memory"]!));
        Assert.Equal(["proxy", "--target", "mcp://docs", "--url", "http://127.0.0.1:3201/mcp"], Samples.Args(servers["docs"]!));
        Assert.Contains("\n      \"--target\",\n      \"mcp://docs\",\n      \"--url\"", Samples.Text(updated.Result), StringComparison.Ordinal);
        Assert.False(again.Changed);
        Assert.All(again.Servers, s => Assert.Equal(McpServerAction.AlreadyWrapped, s.Action));
        var unwrapped = Samples.Parse(McpConfigRewriter.Unwrap(updated.Result, McpClientApp.ClaudeCode).Result)["mcpServers"]!;
        Assert.Equal(["/opt/memory/index.js"], Samples.Args(unwrapped["memory"]!));
        Assert.Equal("http://127.0.0.1:3201/mcp", unwrapped["docs"]!["url"]!.GetValue<string>());
    }

    [Fact]
    public void Wrap_WithPassphrase_WritesItAndUnwrapRemovesExactlyThat()
    {
        var config = """
            {
              "mcpServers": {
                "plain": {
                  "command": "node",
                  "args": ["a.js"]
                },
                "withEnv": {"command": "node", "args": ["b.js"], "env": {"A": "1"}},
                "emptyEnv": {"command": "node", "args": ["c.js"], "env": {}},
                "own": {"command": "node", "args": ["d.js"], "env": {"SIGNET_PASSPHRASE": "mine"}},
                "remote": {"url": "http://127.0.0.1:3201/mcp"}
              }
            }
            """u8.ToArray();

        var wrapped = McpConfigRewriter.Wrap(config, McpClientApp.ClaudeCode, Samples.Options with { Passphrase = "s3cret \"x\"" });
        var unwrapped = McpConfigRewriter.Unwrap(wrapped.Result, McpClientApp.ClaudeCode);

        var servers = Samples.Parse(wrapped.Result)["mcpServers"]!;
        foreach (var name in new[] { "plain", "withEnv", "emptyEnv", "remote" })
        {
            Assert.Equal("s3cret \"x\"", servers[name]!["env"]![McpConfigRewriter.AddedVariable] is null ? null : servers[name]!["env"]!["SIGNET_PASSPHRASE"]!.GetValue<string>());
        }
        Assert.Equal("1", servers["withEnv"]!["env"]!["A"]!.GetValue<string>());
        Assert.Equal("mine", servers["own"]!["env"]!["SIGNET_PASSPHRASE"]!.GetValue<string>());
        Assert.Null(servers["own"]!["env"]![McpConfigRewriter.AddedVariable]);
        Assert.Equal(Samples.Text(config), Samples.Text(unwrapped.Result));
        const string Removed = "removed SIGNET_PASSPHRASE, which wrap added";
        Assert.Equal(new List<string?> { Removed, Removed, Removed, null, Removed }, unwrapped.Servers.Select(s => s.Detail).ToList());
    }

    [Fact]
    public void Unwrap_HandWrittenEntry_TakesCommandAfterSeparator()
    {
        var config = """
            {"mcpServers": {"fs": {
              "command": "signet.exe",
              "args": ["proxy", "--home", "/h", "--name", "fs", "--fail-open", "--", "node", "server.js", "--", "x"],
              "env": {"SIGNET_PASSPHRASE": "p"}
            }}}
            """u8.ToArray();

        var result = McpConfigRewriter.Unwrap(config, McpClientApp.Cursor);

        var fs = Samples.Parse(result.Result)["mcpServers"]!["fs"]!;
        Assert.Equal("node", fs["command"]!.GetValue<string>());
        Assert.Equal(["server.js", "--", "x"], Samples.Args(fs));
        Assert.Equal("p", fs["env"]!["SIGNET_PASSPHRASE"]!.GetValue<string>());
    }

    [Fact]
    public void Unwrap_UrlProxyWithoutRecordedOriginal_IsUnsupportedAndUnchanged()
    {
        var config = """{"mcpServers": {"r": {"command": "/x/signet", "args": ["proxy", "--url", "https://h/mcp"]}}}"""u8.ToArray();

        var result = McpConfigRewriter.Unwrap(config, McpClientApp.Cursor);

        Assert.False(result.Changed);
        var server = Assert.Single(result.Servers);
        Assert.Equal(McpServerAction.Unsupported, server.Action);
        Assert.Contains(McpConfigRewriter.OriginalVariable, server.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"mcpServers": {"a": "npx server"}}""", "not an object")]
    [InlineData("""{"mcpServers": {"a": {"command": ["npx"]}}}""", "\"command\" is not a non-empty string")]
    [InlineData("""{"mcpServers": {"a": {"command": "npx", "args": "-y x"}}}""", "\"args\" is not an array of strings")]
    [InlineData("""{"mcpServers": {"a": {"type": "ws", "url": "ws://h"}}}""", "transport type \"ws\"")]
    [InlineData("""{"mcpServers": {"a": {"env": {}}}}""", "neither \"command\" nor \"url\"")]
    [InlineData("""{"mcpServers": {"a": {"url": "https://h", "headers": {"n": 1}}}}""", "\"headers\" is not an object of strings")]
    public void Wrap_UnsupportedEntry_IsReportedAndLeftAsIs(string config, string reason)
    {
        var bytes = Encoding.UTF8.GetBytes(config);

        var result = McpConfigRewriter.Wrap(bytes, McpClientApp.ClaudeCode, Samples.Options);

        Assert.False(result.Changed);
        var server = Assert.Single(result.Servers);
        Assert.Equal(McpServerAction.Unsupported, server.Action);
        Assert.Contains(reason, server.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\"}\n    \"b\": {}\n  }\n}", 4, 5)]
    [InlineData("{\n  \"mcpServers\": {\n    \"é\": {\"command\": \"x\",, }\n  }\n}", 3, 26)]
    [InlineData("{\"mcpServers\": {}} trailing", 1, 20)]
    [InlineData("", 1, 1)]
    public void Wrap_MalformedJson_ReportsLineAndColumn(string config, int line, int column)
    {
        var e = Assert.Throws<McpConfigException>(() => McpConfigRewriter.Wrap(Encoding.UTF8.GetBytes(config), McpClientApp.ClaudeCode, Samples.Options));

        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains($"line {line}, column {column}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrap_DuplicateServerName_IsRejectedWithPlace()
    {
        var config = "{\"mcpServers\": {\n  \"a\": {\"command\": \"x\"},\n  \"a\": {\"command\": \"y\"}\n}}";

        var e = Assert.Throws<McpConfigException>(() => McpConfigRewriter.Wrap(Encoding.UTF8.GetBytes(config), McpClientApp.Cursor, Samples.Options));

        Assert.Equal((3, 3), (e.Line, e.Column));
        Assert.Contains("duplicate key \"a\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrap_ServersNotAnObject_IsRejectedWithPlace()
    {
        var e = Assert.Throws<McpConfigException>(() => McpConfigRewriter.Wrap("{\"servers\": []}"u8.ToArray(), McpClientApp.VsCode, Samples.Options));

        Assert.Equal((1, 13), (e.Line, e.Column));
    }

    [Fact]
    public void Inspect_WrappedAndPlainServers_ReportsStateAndOriginalCommand()
    {
        var partly = McpConfigRewriter.Wrap(Samples.Bytes("mcp.json"), McpClientApp.ClaudeCode,
            Samples.Options with { Servers = new HashSet<string> { "everything", "sentry" } }).Result;

        var servers = McpConfigRewriter.Inspect(partly, McpClientApp.ClaudeCode);

        Assert.Equal(
            [
                new McpServerInfo("mcpServers", "everything", McpServerState.Wrapped, "npx -y @modelcontextprotocol/server-everything@2026.8.31 stdio"),
                new McpServerInfo("mcpServers", "sentry", McpServerState.Wrapped, "https://mcp.sentry.dev/mcp"),
                new McpServerInfo("mcpServers", "linear", McpServerState.Unsupported, "an SSE server: signet proxy --url connects over Streamable HTTP only"),
                new McpServerInfo("mcpServers", "python-tools", McpServerState.NotWrapped, "uv run --directory ${PROJECT_DIR:-.}/tools server.py"),
            ],
            servers);
    }

    [Fact]
    public void Wrap_GeminiEntryWithType_DropsTypeForTheStdioEntry()
    {
        var config = "{\"mcpServers\": {\"learn\": {\"url\": \"https://learn.example/api/mcp\", \"type\": \"http\"}}}"u8.ToArray();

        var wrapped = McpConfigRewriter.Wrap(config, McpClientApp.GeminiCli, Samples.Options);

        var entry = Samples.Parse(wrapped.Result)["mcpServers"]!["learn"]!;
        Assert.Null(entry["type"]);
        Assert.Equal(["proxy", "--target", "mcp://learn", "--url", "https://learn.example/api/mcp"], Samples.Args(entry));
        Assert.Equal(config, McpConfigRewriter.Unwrap(wrapped.Result, McpClientApp.GeminiCli).Result);
    }

    [Fact]
    public void Unwrap_RecordedOriginalNotAnObject_IsUnsupportedAndUnchanged()
    {
        var config = """{"mcpServers": {"r": {"command": "/x/signet", "args": ["proxy", "--url", "https://h/mcp"], "env": {"SIGNET_WRAP_ORIGINAL": "{\"url\": "}}}}"""u8.ToArray();

        var result = McpConfigRewriter.Unwrap(config, McpClientApp.Cursor);

        Assert.False(result.Changed);
        Assert.Contains("does not hold a JSON object", Assert.Single(result.Servers).Detail, StringComparison.Ordinal);
    }

    private static bool IsSse(McpServerResult server) => server.Detail?.Contains("SSE", StringComparison.Ordinal) == true;

    private static string Recorded(JsonNode entry) => entry["env"]![McpConfigRewriter.OriginalVariable]!.GetValue<string>();

    [Fact]
    public void Wrap_UrlEntryWithEnv_RecordsOriginalAsFirstVariable()
    {
        var config = "{\"mcpServers\": {\"r\": {\n  \"url\": \"https://h/mcp\",\n  \"env\": {\n    \"A\": \"1\"\n  }\n}}}";

        var wrapped = McpConfigRewriter.Wrap(Encoding.UTF8.GetBytes(config), McpClientApp.Cursor, Samples.Options);

        var text = Samples.Text(wrapped.Result);
        Assert.Contains("  \"env\": {\n    \"SIGNET_WRAP_ORIGINAL\": \"{\\n  \\\"url\\\"", text, StringComparison.Ordinal);
        Assert.Contains("\",\n    \"A\": \"1\"\n  }", text, StringComparison.Ordinal);
        Assert.Equal("1", Samples.Parse(wrapped.Result)["mcpServers"]!["r"]!["env"]!["A"]!.GetValue<string>());
        Assert.Equal(config, Samples.Text(McpConfigRewriter.Unwrap(wrapped.Result, McpClientApp.Cursor).Result));
    }

    [Fact]
    public void Wrap_WrappedEntries_HaveNoKeysBeyondTheClientsOwn()
    {
        var known = new HashSet<string> { "type", "command", "args", "env", "cwd", "envFile", "dev", "disabled", "timeout", "trust", "includeTools" };

        foreach (var (file, client) in new[] { ("gemini_settings.json", McpClientApp.GeminiCli), ("vscode_mcp.json", McpClientApp.VsCode), ("claude_desktop_config.json", McpClientApp.ClaudeDesktop) })
        {
            var before = Samples.Parse(Samples.Bytes(file));
            var after = Samples.Parse(McpConfigRewriter.Wrap(Samples.Bytes(file), client, Samples.Options).Result);
            var key = McpClientApps.ServersKey(client);
            foreach (var (name, entry) in after[key]!.AsObject())
            {
                var added = entry!.AsObject().Select(p => p.Key).Except(before[key]![name]!.AsObject().Select(p => p.Key));
                Assert.All(added, k => Assert.Contains(k, known));
            }
        }
    }

    private static JsonNode Lookup(JsonNode root, string location)
    {
        if (!location.StartsWith("projects[", StringComparison.Ordinal))
        {
            return root[location]!;
        }
        var close = location.IndexOf("].", StringComparison.Ordinal);
        var project = JsonNode.Parse(location["projects[".Length..close])!.GetValue<string>();
        return root["projects"]![project]![location[(close + 2)..]]!;
    }
}
