using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Signet.Mcp.Tests.Interop;

/// <summary>
/// The interop harness itself: the official TS SDK client (ts-client.mjs) straight against each pinned npm server
/// and against our demo server, with no Signet in between. The proxy and bridge interop tests compare against these runs.
/// </summary>
public sealed class NpmPeerSanityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TsClientEverything_DirectToServerEverything_PassesWithExpectedTools()
    {
        var run = await TsClient.StdioAsync("everything", [], NpmPeers.Node, [NpmPeers.ServerEverything, "stdio"]);
        Report(run);

        var document = run.Succeeded();
        var tools = Names(document["tools"]);
        Assert.Contains("echo", tools);
        Assert.Contains("get-sum", tools);
        Assert.Contains("trigger-long-running-operation", tools);
        Assert.Equal("Echo: hello from ts-client", document["calls"]!["echo"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(3, document["progress"]!["trigger-long-running-operation"]!.AsArray().Count);
        Assert.Equal("text/markdown", document["readResource"]![0]!["mimeType"]!.GetValue<string>());
        Assert.Contains("simple-prompt", Names(document["prompts"]));
        Assert.Equal(16, document["concurrentEchoes"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task TsClientFilesystem_DirectToServerFilesystem_WritesAndReadsBack()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("existing.txt"), "already here");

        var run = await TsClient.StdioAsync("filesystem", [dir.Path], NpmPeers.Node, [NpmPeers.ServerFilesystem, dir.Path]);
        Report(run);

        var calls = run.Succeeded()["calls"]!;
        Assert.Equal("[FILE] existing.txt", Text(calls["list_directory_before"]));
        Assert.Equal("written by ts-client\nsecond line ü\n", Text(calls["read_text_file"]));
        Assert.Equal("written by ts-client\nsecond line ü\n", await File.ReadAllTextAsync(dir.File("ts-client.txt")));
        Assert.Equal("Successfully wrote to <DIR>/ts-client.txt", Text(calls["write_file"]));
    }

    [Fact]
    public async Task TsClientMemory_DirectToServerMemory_PassesEnvironmentAndPersistsGraph()
    {
        using var dir = new TempDirectory();
        var memoryFile = dir.File("memory.jsonl");

        var run = await TsClient.StdioAsync(
            "memory", [], NpmPeers.Node, [NpmPeers.ServerMemory], new Dictionary<string, string?> { ["MEMORY_FILE_PATH"] = memoryFile });
        Report(run);

        var calls = run.Succeeded()["calls"]!;
        Assert.Contains("\"Receipt\"", Text(calls["read_graph"]), StringComparison.Ordinal);
        // The file only appears where MEMORY_FILE_PATH points if the environment reached the server.
        Assert.Contains("\"name\":\"Signet\"", await File.ReadAllTextAsync(memoryFile), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TsClientDemo_DirectToSignetDemoServer_PassesEveryTool()
    {
        var (dotnet, arguments) = SignetExecutable.Command("demo-server");

        var run = await TsClient.StdioAsync("demo", [], dotnet, arguments);
        Report(run);

        var document = run.Succeeded();
        Assert.Equal("signet-demo", document["server"]!["name"]!.GetValue<string>());
        Assert.Equal(["add", "count", "echo", "fail", "lookup_customer"], Names(document["tools"]));
        Assert.True(document["calls"]!["fail"]!["isError"]!.GetValue<bool>());
        Assert.Equal([1, 2, 3], document["progress"]!["count"]!.AsArray().Select(p => p!["progress"]!.GetValue<int>()));
        Assert.Equal(["demo://customers"], Names(document["resources"]));
        Assert.Equal(["summarize_customer"], Names(document["prompts"]));
    }

    [Fact]
    public async Task TsClient_ServerExitsAtOnce_ExitsNonZeroWithClearMessage()
    {
        var run = await TsClient.StdioAsync("everything", [], NpmPeers.Node, ["-e", "process.exit(0)"]);

        Assert.Equal(1, run.Process.ExitCode);
        Assert.Null(run.Document);
        Assert.Contains("ts-client: scenario 'everything' error", run.Process.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TsClient_ServerNeverAnswers_TimesOutWithExitCode3()
    {
        var run = await TsClient.StdioAsync("demo", [], NpmPeers.Node, ["-e", "setInterval(() => {}, 1000)"], timeout: TimeSpan.FromSeconds(2));

        Assert.Equal(3, run.Process.ExitCode);
        Assert.Contains("did not finish within 2000 ms", run.Process.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node22_Version_Reports22()
    {
        var result = await ProcessRunner.RunAsync(NpmPeers.Node22, ["--version"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("v22.", result.Stdout.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Conformance_ListOnNode22_ListsServerScenarios()
    {
        // 0.1.16 dies at import on Node 20 (fs.globSync), so this also proves the Node 22 binary is the one that works.
        var result = await ProcessRunner.RunAsync(NpmPeers.Node22, [NpmPeers.Conformance, "list"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("tools-call-with-progress", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Supergateway_Help_DescribesItsStdioOption()
    {
        var result = await ProcessRunner.RunAsync(NpmPeers.Node, [NpmPeers.Supergateway, "--help"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("--stdio", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void RequireDirectory_NodeModulesMissing_FailsWithTheInstallCommand()
    {
        using var dir = new TempDirectory();
        var missing = dir.File("node_modules");

        var error = Assert.Throws<InvalidOperationException>(() => NpmPeers.RequireDirectory(missing));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("run `bash test.sh` (it installs the npm peers)", error.Message, StringComparison.Ordinal);
    }

    private void Report(TsClientRun run) =>
        output.WriteLine($"{run.Process.CommandLine}: exit {run.Process.ExitCode} in {run.Process.Elapsed.TotalMilliseconds:F0} ms");

    private static string[] Names(JsonNode? array) => [.. array!.AsArray().Select(n => n!.GetValue<string>())];

    private static string Text(JsonNode? call) => call!["content"]![0]!["text"]!.GetValue<string>();
}
