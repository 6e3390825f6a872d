using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary>
/// A signature through a running <c>signet agent</c> (a real process, its Unix socket, <see cref="AgentSigner"/>)
/// next to one in process with the same key, in the same run: the bytes are a v1 receipt's signable with 300 bytes of
/// arguments; then whole receipts (<see cref="ReceiptSigner.SignRequest"/>) each way, and 4 threads through the agent.
/// </summary>
/// <remarks>
/// Usage: <c>--harness agent [--signet PATH] [--signatures N] [--rounds R]</c>. The agent is started with an
/// unencrypted key in a temporary home and no <c>--log</c> (its stderr lines go to /dev/null), so what is measured is
/// the socket round trip and the agent's check of the bytes.
/// </remarks>
internal static class AgentHarness
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(string[] args)
    {
        var signet = BridgeHarness.Option(args, "--signet") ?? Path.Combine(AppContext.BaseDirectory, "signet");
        var count = int.Parse(BridgeHarness.Option(args, "--signatures") ?? "20000", Inv);
        var rounds = int.Parse(BridgeHarness.Option(args, "--rounds") ?? "3", Inv);
        var home = Directory.CreateTempSubdirectory("signet-bench-agent-").FullName;
        var socket = Path.Combine(home, "agent.sock");
        KeyStore.ForHome(home).CreateUnencrypted("bench", "bench");
        using var key = KeyStore.ForHome(home).Load("bench", PassphraseSource.None);
        var info = new ProcessStartInfo(signet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "agent", "--home", home, "--key", "bench", "--socket", socket })
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment.Remove(AgentProtocol.SocketEnvironmentVariable);
        using var agent = Process.Start(info)!;
        _ = agent.StandardError.ReadToEndAsync();
        try
        {
            if (await agent.StandardOutput.ReadLineAsync() is null)
            {
                throw new InvalidOperationException("the agent exited before listening");
            }
            using var remote = AgentSigner.Connect(socket);
            var parameters = StrictJson.Parse("""
                {"path":"/home/user/projects/app/src/components/Header.tsx","content":"export function Header() { return <h1>Hello, wörld</h1>; }","options":{"createDirectories":true,"encoding":"utf-8","mode":420},"tags":["edit","ui",3,4.5],"dryRun":false,"reason":"rename the header component after review"}
                """)!;
            var local = new ReceiptSigner(key.Key, "bench", "bench");
            var viaAgent = new ReceiptSigner(remote, "bench", "bench");
            var action = new ReceiptAction { Tool = "write_file", Params = parameters, Target = "mcp://bench" };
            var signable = Signable.Canonical(local.SignRequest(action).Json, 1);

            Console.WriteLine($"# signer agent vs in-process key: {count} signatures per round, {rounds} rounds (the first is warm-up), {Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
            Console.WriteLine($"# signable: a v1 receipt, {signable.Length} bytes; agent: {signet}");
            Console.WriteLine();
            Console.WriteLine("| round | what | p50 µs | p90 µs | p99 µs |");
            Console.WriteLine("|---|---|---|---|---|");
            for (var round = 1; round <= rounds; round++)
            {
                var label = round == 1 ? "warm-up" : (round - 1).ToString(Inv);
                Report(label, "sign, in process", Time(count, () => key.Key.Sign(signable)));
                Report(label, "sign, through the agent", Time(count, () => remote.Sign(signable)));
                Report(label, "v1 receipt, in process", Time(count, () => local.SignRequest(action)));
                Report(label, "v1 receipt, through the agent", Time(count, () => viaAgent.SignRequest(action)));
                var parallel = Stopwatch.StartNew();
                Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => remote.Sign(signable));
                Console.WriteLine($"| {label} | through the agent, 4 threads | {count / parallel.Elapsed.TotalSeconds:F0} signatures/s | | |");
            }
            return 0;
        }
        finally
        {
            agent.Kill();
            await agent.WaitForExitAsync();
            Directory.Delete(home, recursive: true);
        }
    }

    private static double[] Time(int count, Action sign)
    {
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            sign();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        Array.Sort(samples);
        return samples;
    }

    private static void Report(string round, string what, double[] sorted) =>
        Console.WriteLine(string.Create(Inv,
            $"| {round} | {what} | {BridgeHarness.Percentile(sorted, 0.5):F1} | {BridgeHarness.Percentile(sorted, 0.9):F1} | {BridgeHarness.Percentile(sorted, 0.99):F1} |"));
}
