using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ModelContextProtocol.Client;

namespace Signet.Benchmarks;

/// <summary>
/// HTTP bridge latency and throughput: <c>signet bridge</c> (signing, durable audit log) against supergateway
/// (no signing) fronting the same stdio server-everything, one tools/call (echo) at a time per client, with 1 and
/// 16 concurrent clients (one MCP session each), in one run.
/// </summary>
internal static class BridgeHarness
{
    private sealed record Target(string Name, Uri Url, Dictionary<string, string> Headers);

    private sealed record Result(string Target, int Clients, int Calls, double P50Us, double P99Us, double CallsPerSecond);

    public static async Task<int> RunAsync(string[] args)
    {
        var calls = IntOption(args, "--calls", 2000);
        var warmup = IntOption(args, "--warmup", 300);
        var output = Option(args, "--out");
        var root = FindRepositoryRoot();
        var interop = Option(args, "--interop") ?? Path.Combine(root, "tests", "interop");
        var everything = Path.Combine(interop, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
        var supergateway = Path.Combine(interop, "node_modules", "supergateway", "dist", "index.js");
        var signet = Option(args, "--signet") ?? FindSignet(root);
        foreach (var file in new[] { everything, supergateway, signet })
        {
            if (!File.Exists(file))
            {
                Console.Error.WriteLine($"bench: missing {file} (run 'bash test.sh' for the npm peers and 'dotnet build -c Release src/Signet.Cli')");
                return 1;
            }
        }

        var home = Directory.CreateTempSubdirectory("signet-bench-bridge-").FullName;
        var processes = new List<Process>();
        try
        {
            var env = new Dictionary<string, string> { ["SIGNET_HOME"] = home };
            await RunToEndAsync("dotnet", [signet, "key", "new", "bench", "--unencrypted"], env);
            var bridgePort = FreePort();
            var token = "bench-token-" + Guid.NewGuid().ToString("N");
            env["SIGNET_BRIDGE_TOKEN"] = token;
            processes.Add(Start("dotnet", [signet, "bridge", "--key", "bench", "--listen", $"127.0.0.1:{bridgePort}", "--log-level", "warning", "--",
                "node", everything, "stdio"], env));
            var gatewayPort = FreePort();
            processes.Add(Start("node", [supergateway, "--stdio", $"node {everything} stdio", "--outputTransport", "streamableHttp", "--stateful",
                "--port", gatewayPort.ToString(CultureInfo.InvariantCulture), "--healthEndpoint", "/healthz", "--logLevel", "none"], new()));
            await WaitHealthyAsync(new Uri($"http://127.0.0.1:{bridgePort}/healthz"));
            await WaitHealthyAsync(new Uri($"http://127.0.0.1:{gatewayPort}/healthz"));

            var targets = new[]
            {
                new Target("signet bridge (signing, durable log)", new Uri($"http://127.0.0.1:{bridgePort}/mcp"), new() { ["Authorization"] = "Bearer " + token }),
                new Target("supergateway 4.0.0 --stateful (no signing)", new Uri($"http://127.0.0.1:{gatewayPort}/mcp"), new()),
            };
            var results = new List<Result>();
            foreach (var clients in new[] { 1, 16 })
            {
                // Alternate the targets so both see the same machine state.
                foreach (var target in targets)
                {
                    results.Add(await MeasureAsync(target, clients, calls, warmup));
                    Console.Error.WriteLine($"bench: {results[^1]}");
                }
            }

            var report = new StringBuilder();
            report.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} vCPU, {RuntimeDescription()}; {calls} echo calls per row after {warmup} warm-up calls; one MCP session per client.");
            report.AppendLine();
            report.AppendLine("| target | clients | p50 (µs) | p99 (µs) | calls/s |");
            report.AppendLine("|---|---|---|---|---|");
            foreach (var r in results)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"| {r.Target} | {r.Clients} | {r.P50Us:F0} | {r.P99Us:F0} | {r.CallsPerSecond:F0} |");
            }
            var verify = await RunToEndAsync("dotnet", [signet, "log", "verify"], env);
            report.AppendLine();
            report.AppendLine("`signet log verify` after the run: " + verify.Trim().Replace("\n", " ", StringComparison.Ordinal));
            Console.WriteLine(report.ToString());
            if (output is not null)
            {
                await File.WriteAllTextAsync(output, report.ToString());
            }
            return 0;
        }
        finally
        {
            foreach (var process in processes)
            {
                await StopAsync(process);
            }
            Directory.Delete(home, recursive: true);
        }
    }

    private static async Task<Result> MeasureAsync(Target target, int clientCount, int calls, int warmup)
    {
        var clients = new List<McpClient>();
        for (var i = 0; i < clientCount; i++)
        {
            clients.Add(await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = target.Url,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = target.Headers,
            }), new McpClientOptions { ProtocolVersion = "2025-11-25" }));
        }
        try
        {
            var arguments = new Dictionary<string, object?> { ["message"] = "benchmark payload" };
            await Task.WhenAll(clients.Select(async c =>
            {
                for (var i = 0; i < Math.Max(1, warmup / clientCount); i++)
                {
                    await c.CallToolAsync("echo", arguments);
                }
            }));
            var perClient = calls / clientCount;
            var latencies = new double[perClient * clientCount];
            var wall = Stopwatch.StartNew();
            await Task.WhenAll(clients.Select(async (c, index) =>
            {
                for (var i = 0; i < perClient; i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    await c.CallToolAsync("echo", arguments);
                    latencies[index * perClient + i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                }
            }));
            wall.Stop();
            Array.Sort(latencies);
            return new Result(target.Name, clientCount, latencies.Length, Percentile(latencies, 0.50), Percentile(latencies, 0.99),
                latencies.Length / wall.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    internal static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static Process Start(string file, IEnumerable<string> arguments, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = false, RedirectStandardOutput = true };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env)
        {
            info.Environment[k] = v;
        }
        return Process.Start(info)!;
    }

    private static async Task<string> RunToEndAsync(string file, IEnumerable<string> arguments, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env)
        {
            info.Environment[k] = v;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stderr}");
        }
        return await stdout + await stderr;
    }

    private static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        process.Dispose();
    }

    private static async Task WaitHealthyAsync(Uri health)
    {
        using var http = new HttpClient();
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                if ((await http.GetAsync(health)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{health} did not become healthy");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? Environment.CurrentDirectory;
    }

    private static string FindSignet(string root) =>
        new[] { "Release", "Debug" }.Select(c => Path.Combine(root, "src", "Signet.Cli", "bin", c, "net10.0", "signet.dll")).FirstOrDefault(File.Exists)
        ?? Path.Combine(root, "src", "Signet.Cli", "bin", "Release", "net10.0", "signet.dll");

    private static string RuntimeDescription() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    internal static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

    private static int IntOption(string[] args, string name, int fallback) =>
        Option(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
}
