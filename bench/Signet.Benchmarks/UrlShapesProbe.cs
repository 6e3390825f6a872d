using System.Diagnostics;
using System.Text;

namespace Signet.Benchmarks;

/// <summary>
/// <c>--harness proxy-url-shapes [--url URL]</c>: writes the same raw client lines to both <c>proxy --url</c> engines (old engine and
/// SDK pump, hosted as by <c>proxy-url</c>) against server-everything over Streamable HTTP, and prints, for each line,
/// what the client got back. After each case a <c>ping</c> with a fresh id shows whether the session still answers; a
/// case's answer that has not come 2 s after that ping's is reported as none.
/// </summary>
internal static class UrlShapesProbe
{
    private static readonly (string Name, string Line)[] Cases =
    [
        ("valid call, non-ASCII argument", """{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hé <&> 😀"}}}"""),
        ("id 1.0", """{"jsonrpc":"2.0","id":1.0,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}"""),
        ("id of 30 digits", """{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}"""),
        ("id 2^53+1", """{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}"""),
        ("id -0", """{"jsonrpc":"2.0","id":-0,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}"""),
        ("id null", """{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}"""),
        ("params an array", """{"jsonrpc":"2.0","id":11,"method":"tools/call","params":[1]}"""),
        ("invalid UTF-8 in the id", "{\"jsonrpc\":\"2.0\",\"id\":\"z\u0001\",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"x\"}}}"),
        ("invalid UTF-8 in params", "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"z\u0001\"}}}"),
        ("duplicate key in params", """{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"echo","arguments":{"message":"a","message":"b"}}}"""),
        ("not JSON", """{"jsonrpc":"2.0","id":14,"method":"ping" oops"""),
        ("not JSON, no id", "hello"),
        ("batch [ping, tools/call]", """[{"jsonrpc":"2.0","id":15,"method":"ping"},{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"echo","arguments":{"message":"b"}}}]"""),
        ("unknown top-level member on a ping", """{"jsonrpc":"2.0","id":17,"method":"ping","x-trace":"t1"}"""),
        ("tools/call as a notification", """{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo","arguments":{"message":"n"}}}"""),
        ("line of 80 kB (limit 64 KiB here)", """{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"name":"echo","arguments":{"message":"PAD"}}}"""),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var home = Directory.CreateTempSubdirectory("signet-bench-shapes-").FullName;
        Signet.Keys.KeyStore.ForHome(home).CreateUnencrypted("default");
        // --url: probe another server instead (e.g. one that echoes 2^53+1 as 2^53); the server requests are then skipped.
        var external = Option(args, "--url");
        var (server, endpoint) = external is null ? await UrlProxyHarness.StartServerAsync() : (null, new Uri(external));
        var self = Environment.ProcessPath!;
        string[] selfArgs = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [typeof(UrlShapesProbe).Assembly.Location] : [];
        try
        {
            var results = new Dictionary<string, List<string>>();
            foreach (var engine in new[] { "old", "pump" })
            {
                results[engine] = await ProbeAsync(self, [.. selfArgs, "--harness", "proxy-url-host", "--engine", engine, "--url", endpoint.ToString(), "--home", home, "--max-line-bytes", "65536"]);
            }
            var reverse = new Dictionary<string, List<string>>();
            foreach (var engine in external is null ? new[] { "old", "pump" } : [])
            {
                reverse[engine] = await ServerRequestsAsync(self, [.. selfArgs, "--harness", "proxy-url-host", "--engine", engine, "--url", endpoint.ToString(), "--home", home]);
            }
            if (external is null)
            {
                Console.WriteLine("| C# McpClient (sampling, elicitation and roots handlers) calls | old engine | SDK pump |");
                Console.WriteLine("|---|---|---|");
                for (var i = 0; i < ReverseTools.Length; i++)
                {
                    Console.WriteLine($"| {ReverseTools[i].Name} | {reverse["old"][i]} | {reverse["pump"][i]} |");
                }
                Console.WriteLine();
            }
            Console.WriteLine("| client line | old engine | SDK pump |");
            Console.WriteLine("|---|---|---|");
            for (var i = 0; i < Cases.Length; i++)
            {
                Console.WriteLine($"| {Cases[i].Name} | {results["old"][i]} | {results["pump"][i]} |");
            }
            return 0;
        }
        finally
        {
            if (server is not null)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
                server.Dispose();
            }
            Directory.Delete(home, recursive: true);
        }
    }

    private static readonly (string Name, Dictionary<string, object?> Arguments)[] ReverseTools =
    [
        ("trigger-sampling-request", new() { ["prompt"] = "hi", ["maxTokens"] = 5 }),
        ("trigger-elicitation-request", new()),
        ("get-roots-list", new()),
        ("trigger-long-running-operation", new() { ["duration"] = 1, ["steps"] = 3 }),
    ];

    /// <summary>Server-to-client requests and notifications during a call, through an engine, with the C# client.</summary>
#pragma warning disable MCP9005 // sampling and roots are deprecated in 2026-07-28, and still what 2025-11-25 servers send
    private static async Task<List<string>> ServerRequestsAsync(string command, string[] arguments)
    {
        var transport = new ModelContextProtocol.Client.StdioClientTransport(new() { Command = command, Arguments = arguments, Name = "probe", StandardErrorLines = _ => { } });
        var options = new ModelContextProtocol.Client.McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new()
            {
                SamplingHandler = (_, _, _) => ValueTask.FromResult(new ModelContextProtocol.Protocol.CreateMessageResult
                {
                    Content = [new ModelContextProtocol.Protocol.TextContentBlock { Text = "sampled" }],
                    Model = "probe",
                }),
                ElicitationHandler = (_, _) => ValueTask.FromResult(new ModelContextProtocol.Protocol.ElicitResult { Action = "decline" }),
                RootsHandler = (_, _) => ValueTask.FromResult(new ModelContextProtocol.Protocol.ListRootsResult { Roots = [new() { Uri = "file:///probe", Name = "probe" }] }),
            },
        };
        var report = new List<string>();
        await using var client = await ModelContextProtocol.Client.McpClient.CreateAsync(transport, options);
        foreach (var (name, toolArguments) in ReverseTools)
        {
            var progress = 0;
            try
            {
                var result = await client.CallToolAsync(name, toolArguments, new Progress<ModelContextProtocol.ProgressNotificationValue>(_ => Interlocked.Increment(ref progress)))
                    .AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                var text = string.Join(" ", result.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(b => b.Text)).ReplaceLineEndings(" ");
                report.Add((result.IsError == true ? "tool error: " : "ok: ") + "`" + Shorten(text) + "`" + (progress > 0 ? $", {progress} progress notifications" : ""));
            }
            catch (Exception e)
            {
                report.Add($"**{e.GetType().Name}**: {Shorten(e.Message)}");
            }
        }
        return report;
    }
#pragma warning restore MCP9005

    private static async Task<List<string>> ProbeAsync(string command, string[] arguments)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var input = process.StandardInput.BaseStream;
        var lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                await lines.Writer.WriteAsync(line);
            }
            lines.Writer.TryComplete();
        });

        await WriteAsync(input, """{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}""");
        await lines.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        await WriteAsync(input, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");

        var report = new List<string>();
        for (var i = 0; i < Cases.Length; i++)
        {
            var line = Cases[i].Line.Replace("PAD", new string('x', 80_000), StringComparison.Ordinal);
            await WriteAsync(input, line);
            var sentinel = $"\"after-{i}\"";
            await WriteAsync(input, $$"""{"jsonrpc":"2.0","id":{{sentinel}},"method":"ping"}""");
            var got = new List<string>();
            var sentinelSeen = false;
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                while (true)
                {
                    var next = await lines.Reader.ReadAsync(grace.Token);
                    if (next.Contains(sentinel, StringComparison.Ordinal))
                    {
                        sentinelSeen = true;
                        grace.CancelAfter(TimeSpan.FromSeconds(2));
                        continue;
                    }
                    got.Add(next);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
            {
            }
            var shown = got.Count == 0 ? "**no answer**" : string.Join(" ⏎ ", got.Select(l => "`" + Shorten(l) + "`"));
            report.Add(sentinelSeen ? shown : shown + " (**session no longer answers**)");
        }
        process.StandardInput.Close();
        if (!process.WaitForExit(10_000))
        {
            process.Kill(entireProcessTree: true);
        }
        return report;
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private static async Task WriteAsync(Stream input, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        // \u0001 in a case stands for the byte 0xFF (invalid UTF-8).
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == 1)
            {
                bytes[i] = 0xFF;
            }
        }
        await input.WriteAsync(bytes);
        await input.FlushAsync();
    }

    private static string Shorten(string line)
    {
        var text = line.Replace("|", "\\|", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal);
        return text.Length > 160 ? text[..157] + "…" : text;
    }
}
