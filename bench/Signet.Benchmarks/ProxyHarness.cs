using System.Diagnostics;
using System.Globalization;
using System.Text;
using ModelContextProtocol.Client;

namespace Signet.Benchmarks;

/// <summary>
/// Added latency per tools/call through the stdio proxy against the same server direct, sequential and 16 in flight,
/// plus time from launch to first response. Client: the C# MCP SDK over stdio; server: server-everything's echo.
/// </summary>
internal static class ProxyHarness
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(string[] args)
    {
        var signet = Option(args, "--signet"); // without it, only direct and the engine floor are measured
        var calls = int.Parse(Option(args, "--calls") ?? "2000", Inv);
        var rounds = int.Parse(Option(args, "--rounds") ?? "3", Inv);
        var launches = int.Parse(Option(args, "--launches") ?? "20", Inv);
        var home = Option(args, "--home") ?? Directory.CreateTempSubdirectory("signet-bench-").FullName;
        var extra = Option(args, "--proxy-args")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (signet is not null && !File.Exists(Path.Combine(home, "keys", "default.key")))
        {
            // The proxy signs with the home's default key; an unencrypted one keeps passphrases out of the measurement.
            using var keygen = Process.Start(new ProcessStartInfo(signet) { ArgumentList = { "key", "new", "default", "--unencrypted", "--home", home }, RedirectStandardOutput = true })!;
            keygen.WaitForExit();
            if (keygen.ExitCode != 0)
            {
                throw new InvalidOperationException($"'{signet} key new default --unencrypted --home {home}' failed with exit code {keygen.ExitCode}");
            }
        }
        var server = ServerScript();
        var self = Environment.ProcessPath!;
        var selfArgs = Path.GetFileNameWithoutExtension(self) == "dotnet" ? new[] { typeof(ProxyHarness).Assembly.Location } : [];

        var configurations = new List<(string Name, string Command, string[] Args)>
        {
            ("direct", "node", [server, "stdio"]),
            ("engine only (no signing)", self, [.. selfArgs, "--harness", "proxy-host", "--", "node", server, "stdio"]),
        };
        if (signet is not null)
        {
            configurations.Add(("signet proxy, fast", signet, ["proxy", "--home", home, "--durability", "fast", .. extra, "--", "node", server, "stdio"]));
            configurations.Add(("signet proxy, durable", signet, ["proxy", "--home", home, "--durability", "durable", .. extra, "--", "node", server, "stdio"]));
        }

        Console.WriteLine($"# stdio proxy latency: {calls} echo calls per round, {rounds} rounds (first is warm-up), {Environment.ProcessorCount} CPUs, {RuntimeInformation()}");
        Console.WriteLine();
        Console.WriteLine($"fsync p50 on {home}: {FsyncP50(home):F0} µs");
        Console.WriteLine();
        Console.WriteLine("CPU per call: user + system time of the launched process (the proxy, or node for direct) and of its children (node), over the measured calls, from /proc.");
        Console.WriteLine();
        Console.WriteLine("| configuration | in flight | p50 µs | p90 µs | p99 µs | added p50 vs direct µs | CPU/call µs | children CPU/call µs |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        var baseline = new Dictionary<int, double>();
        foreach (var (name, command, arguments) in configurations)
        {
            foreach (var inFlight in new[] { 1, 16 })
            {
                var samples = new List<double>();
                double ownCpu = 0, childrenCpu = 0;
                for (var round = 0; round < rounds; round++)
                {
                    var (measured, own, children) = await MeasureAsync(command, arguments, calls, inFlight);
                    if (round > 0 || rounds == 1)
                    {
                        samples.AddRange(measured);
                        ownCpu += own;
                        childrenCpu += children;
                    }
                }
                var measuredCalls = (double)samples.Count;
                samples.Sort();
                var p50 = Percentile(samples, 0.50);
                if (name == "direct")
                {
                    baseline[inFlight] = p50;
                }
                Console.WriteLine($"| {name} | {inFlight} | {p50:F0} | {Percentile(samples, 0.90):F0} | {Percentile(samples, 0.99):F0} | {(name == "direct" ? "—" : (p50 - baseline[inFlight]).ToString("+0;-0", Inv))} | {ownCpu / measuredCalls:F0} | {childrenCpu / measuredCalls:F0} |");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Launch to first response ({launches} launches, median ms): the child is `cat`, which echoes the first line at once, so the proxy's own start-up is what is measured.");
        Console.WriteLine();
        Console.WriteLine("| launch | median ms | p90 ms |");
        Console.WriteLine("|---|---|---|");
        var launchConfigurations = new List<(string, string, string[])>
        {
            ("cat alone", "cat", []),
            ("engine only -- cat", self, [.. selfArgs, "--harness", "proxy-host", "--", "cat"]),
            ("node server-everything alone (initialize answered)", "node", [server, "stdio"]),
        };
        if (signet is not null)
        {
            launchConfigurations.Add(("signet proxy -- cat", signet, ["proxy", "--home", home, "--durability", "fast", .. extra, "--", "cat"]));
            launchConfigurations.Add(("signet proxy -- node server-everything", signet, ["proxy", "--home", home, "--durability", "fast", .. extra, "--", "node", server, "stdio"]));
        }
        foreach (var (name, command, arguments) in launchConfigurations)
        {
            var times = new List<double>();
            for (var i = 0; i < launches; i++)
            {
                times.Add(await LaunchToFirstLineAsync(command, arguments));
            }
            times.Sort();
            Console.WriteLine($"| {name} | {Percentile(times, 0.5):F1} | {Percentile(times, 0.9):F1} |");
        }
        return 0;
    }

    private static async Task<(List<double> Samples, double OwnCpuMicroseconds, double ChildrenCpuMicroseconds)> MeasureAsync(string command, string[] arguments, int calls, int inFlight)
    {
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = command,
            Arguments = arguments,
            Name = "bench",
            StandardErrorLines = _ => { },
        });
        await using var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = "2025-11-25" });
        var message = new Dictionary<string, object?> { ["message"] = "hello from the benchmark" };
        for (var i = 0; i < 300; i++)
        {
            await client.CallToolAsync("echo", message);
        }

        var samples = new List<double>(calls);
        var before = ProcessCpu.OfChildren(Environment.ProcessId);
        var perWorker = calls / inFlight;
        var workers = Enumerable.Range(0, inFlight).Select(async _ =>
        {
            var local = new List<double>(perWorker);
            for (var i = 0; i < perWorker; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await client.CallToolAsync("echo", message);
                local.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }
            return local;
        }).ToArray();
        foreach (var local in await Task.WhenAll(workers))
        {
            samples.AddRange(local);
        }
        var after = ProcessCpu.OfChildren(Environment.ProcessId);
        return (samples, after.Own - before.Own, after.Children - before.Children);
    }

    private static async Task<double> LaunchToFirstLineAsync(string command, string[] arguments)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var start = Stopwatch.GetTimestamp();
        using var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        await process.StandardInput.WriteAsync("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bench\",\"version\":\"1\"}}}\n");
        await process.StandardInput.FlushAsync();
        var line = await process.StandardOutput.ReadLineAsync();
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (line is null)
        {
            throw new InvalidOperationException($"{command} produced no output");
        }
        process.StandardInput.Close();
        if (!process.WaitForExit(10_000))
        {
            process.Kill(entireProcessTree: true);
        }
        return elapsed;
    }

    private static double FsyncP50(string directory)
    {
        var path = Path.Combine(directory, "fsync-probe.tmp");
        var samples = new List<double>();
        var line = Encoding.UTF8.GetBytes(new string('x', 400) + "\n");
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            for (var i = 0; i < 300; i++)
            {
                var start = Stopwatch.GetTimestamp();
                file.Write(line);
                file.Flush(flushToDisk: true);
                samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }
        }
        File.Delete(path);
        samples.Sort();
        return Percentile(samples, 0.5);
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static string RuntimeInformation() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    internal static string ServerScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "interop", "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("server-everything not found under tests/interop/node_modules: run 'bash test.sh' once (npm ci)");
    }
}
