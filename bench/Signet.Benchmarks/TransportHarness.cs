using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Signet.Keys;
using Signet.Mcp;
using Signet.Mcp.Client;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary>
/// <c>--harness transport [--calls N] [--warmup N] [--rounds N]</c>: the time SigningTransport adds per tools/call,
/// against the unwrapped transport, on the same in-process C# MCP server (in-memory pipes, no process hop).
/// </summary>
internal static class TransportHarness
{
    private sealed record Config(string Name, Func<string, IReceiptSink?>? Sink, Func<IReceiptSink?, ValueTask>? Close);

    public static async Task<int> RunAsync(string[] args)
    {
        var calls = Option(args, "--calls", 2000);
        var warmup = Option(args, "--warmup", 300);
        var rounds = Option(args, "--rounds", 3);
        var dir = Directory.CreateTempSubdirectory("signet-bench-");
        using var key = SigningKey.Generate();
        var configs = new List<Config>
        {
            new("unwrapped", null, null),
            new("SigningTransport, sign only (no log)", _ => null, null),
        };
        configs.AddRange(TransportSinks.Configs(dir.FullName).Select(c => new Config(c.Name, c.Open, c.Close)));

        var results = configs.ToDictionary(c => c.Name, _ => new List<double[]>());
        try
        {
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var config in configs)
                {
                    var samples = await MeasureAsync(config, key, Path.Combine(dir.FullName, $"r{round}"), warmup, calls);
                    results[config.Name].Add(samples);
                    await Console.Error.WriteLineAsync($"round {round} {config.Name}: p50 {Percentile(samples, 50):0.0} µs");
                }
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }

        // Round 1 warms the JIT and the caches; report the later rounds.
        var reported = rounds > 1 ? 1 : 0;
        var baseline = Median(results["unwrapped"].Skip(reported).Select(s => Percentile(s, 50)));
        Console.WriteLine($"| configuration | p50 µs | p90 µs | p99 µs | added at p50 µs |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var config in configs)
        {
            var kept = results[config.Name].Skip(reported).ToList();
            var p50 = Median(kept.Select(s => Percentile(s, 50)));
            var p90 = Median(kept.Select(s => Percentile(s, 90)));
            var p99 = Median(kept.Select(s => Percentile(s, 99)));
            var added = config.Sink is null ? "—" : (p50 - baseline).ToString("0.0", CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {config.Name} | {p50:0.0} | {p90:0.0} | {p99:0.0} | {added} |"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\n{calls} sequential echo calls per configuration and round after {warmup} warm-up calls; {rounds} rounds, medians of rounds 2..{rounds}."));
        return 0;
    }

    private static async Task<double[]> MeasureAsync(Config config, SigningKey key, string logDir, int warmup, int calls)
    {
        Directory.CreateDirectory(logDir);
        var toServer = new Pipe();
        var toClient = new Pipe();
        var server = McpServer.Create(new StreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream()), new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "bench", Version = "1.0.0" },
            ToolCollection = [McpServerTool.Create((string message) => $"Echo: {message}", new() { Name = "echo" })],
        });
        var run = server.RunAsync();
        IClientTransport transport = new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream());
        IReceiptSink? sink = null;
        if (config.Sink is not null)
        {
            sink = config.Sink(logDir);
            transport = new SigningTransport(transport, new SignetOptions { Key = key, SignerName = "bench-agent", AuditLog = sink, Target = "mcp://bench" });
        }

        var samples = new double[calls];
        await using (var client = await McpClient.CreateAsync(transport))
        {
            var arguments = new Dictionary<string, object?> { ["message"] = "hello from the benchmark" };
            for (var i = 0; i < warmup; i++)
            {
                await client.CallToolAsync("echo", arguments);
            }
            for (var i = 0; i < calls; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await client.CallToolAsync("echo", arguments);
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }
        if (config.Close is not null)
        {
            await config.Close(sink);
        }
        await toServer.Writer.CompleteAsync();
        await server.DisposeAsync();
        await run;
        return samples;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static double Percentile(double[] samples, int p)
    {
        var sorted = samples.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1)];
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary><c>--harness recorder</c>: the recorder alone (sign v1, merge, sign v2) in a hot loop, without transport or log.</summary>
internal static class RecorderHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        using var key = SigningKey.Generate();
        var recorder = new Signet.Mcp.Recording.ToolCallRecorder(new Signet.Mcp.SignetOptions
        {
            Signer = new ReceiptSigner(key, "bench-agent"),
            Target = "mcp://bench",
        });
        var result = System.Text.Json.Nodes.JsonNode.Parse("{\"content\":[{\"type\":\"text\",\"text\":\"Echo: hello from the benchmark\"}]}");
        for (var round = 0; round < 3; round++)
        {
            const int n = 20_000;
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < n; i++)
            {
                var callParams = new System.Text.Json.Nodes.JsonObject
                {
                    ["name"] = "echo",
                    ["arguments"] = new System.Text.Json.Nodes.JsonObject { ["message"] = "hello from the benchmark" },
                    ["_meta"] = new System.Text.Json.Nodes.JsonObject { ["progressToken"] = "t" },
                };
                var call = await recorder.RecordRequestAsync(callParams, "n:1", null, null);
                await recorder.RecordResponseAsync(call, result, null);
            }
            var perCall = Stopwatch.GetElapsedTime(start).TotalMicroseconds / n;
            var data = new byte[300];
            var signStart = Stopwatch.GetTimestamp();
            for (var i = 0; i < n; i++)
            {
                key.Sign(data);
            }
            var perSign = Stopwatch.GetElapsedTime(signStart).TotalMicroseconds / n;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"recorder: {perCall:0.0} µs per call (v1 + v2 signed, merged, no log); one bare Ed25519 signature: {perSign:0.0} µs ({perCall / perSign:0.00} signatures' worth)"));
        }
        return 0;
    }
}
