using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ModelContextProtocol.Client;

namespace Signet.Benchmarks;

/// <summary>
/// <c>--harness proxy-url [--signet PATH] [--calls N] [--rounds N]</c>: latency per sequential tools/call and CPU per
/// call through <c>signet proxy --url</c> against server-everything over Streamable HTTP on this machine, old engine
/// (<c>HttpBackendProxy</c>) against the SDK pump (<see cref="UrlPump"/>), both hosted by <c>--harness proxy-url-host</c>
/// with the same key, audit log and settings. The configurations alternate within each round (a fresh proxy each time,
/// against the same server); round 1 is warm-up and not reported.
/// </summary>
internal static class UrlProxyHarness
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(string[] args)
    {
        var signet = Option(args, "--signet");
        var calls = int.Parse(Option(args, "--calls") ?? "1000", Inv);
        var rounds = int.Parse(Option(args, "--rounds") ?? "4", Inv);
        var durability = Option(args, "--durability") ?? "durable";
        var home = Directory.CreateTempSubdirectory("signet-bench-url-").FullName;
        var self = Environment.ProcessPath!;
        string[] selfArgs = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [typeof(UrlProxyHarness).Assembly.Location] : [];
        // The proxies sign with the home's default key; an unencrypted one keeps passphrases out of the measurement.
        Signet.Keys.KeyStore.ForHome(home).CreateUnencrypted("default");

        var (server, endpoint) = await StartServerAsync();
        try
        {
            var url = endpoint.ToString();
            var configurations = new List<(string Name, string? Command, string[] Args)>
            {
                ("direct (C# client over HTTP, no proxy)", null, []),
                ("old engine (HttpBackendProxy)", self, [.. selfArgs, "--harness", "proxy-url-host", "--engine", "old", "--url", url, "--home", home, "--durability", durability]),
                ("SDK pump (StreamServerTransport ↔ SigningTransport)", self, [.. selfArgs, "--harness", "proxy-url-host", "--engine", "pump", "--url", url, "--home", home, "--durability", durability]),
            };
            if (signet is not null)
            {
                configurations.Add(("signet proxy --url (the tool: old engine)", signet, ["proxy", "--home", home, "--durability", durability, "--url", url]));
            }

            var results = configurations.ToDictionary(c => c.Name, _ => (Samples: new List<double>(), Proxy: 0.0, Server: 0.0, Calls: 0));
            for (var round = 0; round < rounds; round++)
            {
                foreach (var (name, command, arguments) in configurations)
                {
                    var (samples, proxyCpu, serverCpu) = await MeasureAsync(command, arguments, endpoint, server.Id, calls);
                    await Console.Error.WriteLineAsync($"round {round + 1} {name}: p50 {Percentile(Sorted(samples), 0.5):F0} µs, proxy CPU/call {proxyCpu / calls:F0} µs");
                    if (round > 0 || rounds == 1)
                    {
                        var r = results[name];
                        r.Samples.AddRange(samples);
                        results[name] = (r.Samples, r.Proxy + proxyCpu, r.Server + serverCpu, r.Calls + samples.Count);
                    }
                }
            }

            Console.WriteLine($"# proxy --url: {calls} sequential echo calls per configuration and round after 300 warm-up calls, {rounds} rounds alternating (first is warm-up), durability {durability}, {Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
            Console.WriteLine();
            Console.WriteLine("| configuration | p50 µs | p90 µs | p99 µs | added p50 vs direct µs | proxy CPU/call µs | server CPU/call µs |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            var baseline = Percentile(Sorted(results[configurations[0].Name].Samples), 0.5);
            foreach (var (name, command, _) in configurations)
            {
                var r = results[name];
                var sorted = Sorted(r.Samples);
                var p50 = Percentile(sorted, 0.5);
                Console.WriteLine(string.Create(Inv,
                    $"| {name} | {p50:F0} | {Percentile(sorted, 0.9):F0} | {Percentile(sorted, 0.99):F0} | {(command is null ? "—" : (p50 - baseline).ToString("+0;-0", Inv))} | {(command is null ? "—" : (r.Proxy / r.Calls).ToString("F0", Inv))} | {r.Server / r.Calls:F0} |"));
            }
            return 0;
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            server.Dispose();
            Directory.Delete(home, recursive: true);
        }
    }

    private static async Task<(List<double> Samples, double ProxyCpu, double ServerCpu)> MeasureAsync(string? command, string[] arguments, Uri endpoint, int serverPid, int calls)
    {
        IClientTransport transport = command is null
            ? new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp })
            : new StdioClientTransport(new StdioClientTransportOptions { Command = command, Arguments = arguments, Name = "bench", StandardErrorLines = _ => { } });
        await using var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = "2025-11-25" });
        var message = new Dictionary<string, object?> { ["message"] = "hello from the benchmark" };
        for (var i = 0; i < 300; i++)
        {
            await client.CallToolAsync("echo", message);
        }
        var samples = new List<double>(calls);
        var proxyBefore = ProcessCpu.OfChildrenExcept(Environment.ProcessId, serverPid);
        var serverBefore = ProcessCpu.Of(serverPid);
        for (var i = 0; i < calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.CallToolAsync("echo", message);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        var proxyCpu = ProcessCpu.OfChildrenExcept(Environment.ProcessId, serverPid) - proxyBefore;
        return (samples, proxyCpu, ProcessCpu.Of(serverPid) - serverBefore);
    }

    internal static async Task<(Process Process, Uri Endpoint)> StartServerAsync()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var info = new ProcessStartInfo("node") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(ProxyHarness.ServerScript());
        info.ArgumentList.Add("streamableHttp");
        info.Environment["PORT"] = port.ToString(Inv);
        var process = Process.Start(info)!;
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("listening on port", StringComparison.Ordinal) == true)
            {
                listening.TrySetResult();
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return (process, new Uri($"http://127.0.0.1:{port}/mcp"));
    }

    private static List<double> Sorted(List<double> samples)
    {
        var sorted = new List<double>(samples);
        sorted.Sort();
        return sorted;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
