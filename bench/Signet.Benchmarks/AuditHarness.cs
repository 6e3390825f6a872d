using System.Diagnostics;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary>
/// <c>--harness audit [DIR] [--records N] [--verify-only] [--parallel P]</c>: the audit log on real files with real
/// fsync. Measures raw fsync latency, one durable append's latency, durable throughput with 1 and 16 writers (each
/// signing its receipt), fast-mode throughput, and verify speed on an N-record log (default 1,000,000).
/// <c>--verify-only</c> times verify alone, on the log left in DIR by an earlier <c>--verify-only</c> run (written
/// first if absent, and kept); <c>--parallel P</c> sets <see cref="AuditVerifyOptions.MaxDegreeOfParallelism"/>;
/// <c>--signatures</c> (with <c>--verify-only</c>) writes a log of individually signed receipts instead, in its own
/// directory, and verifies their signatures too.
/// <c>--durable16</c> runs only the 16-writer durable throughput, ten times longer (for a profiler such as perf).
/// </summary>
internal static class AuditHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? Path.Combine(Path.GetTempPath(), "signet-audit-bench");
        var records = args.SkipWhile(a => a != "--records").Skip(1).Select(int.Parse).FirstOrDefault(1_000_000);
        var parallel = args.SkipWhile(a => a != "--parallel").Skip(1).Select(int.Parse).FirstOrDefault(1);
        var verifyOnly = args.Contains("--verify-only");
        var signatures = args.Contains("--signatures");
        Directory.CreateDirectory(root);
        Console.WriteLine($"load average at start: {LoadAverage()}");
        Console.WriteLine($"audit harness: directory {root}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");

        using var key = SigningKey.Generate();
        var signer = new ReceiptSigner(key, "bench-agent", "bench");
        if (args.Contains("--durable16"))
        {
            await Throughput(root, signer, AuditDurability.Durable, writers: 16, perWriter: 10000);
            return 0;
        }
        if (verifyOnly)
        {
            return await VerifyBig(root, signer, records, parallel, keep: true, signatures);
        }

        // 1. Raw fsync: append a 600-byte line and fsync, the floor under a durable append.
        var raw = Path.Combine(root, "raw-fsync.bin");
        var fsync = new List<double>();
        var rawCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        using (var handle = File.OpenHandle(raw, FileMode.Create, FileAccess.Write))
        {
            var line = new byte[600];
            long offset = 0;
            for (var i = 0; i < 2000; i++)
            {
                RandomAccess.Write(handle, line, offset);
                offset += line.Length;
                var t = Stopwatch.GetTimestamp();
                RandomAccess.FlushToDisk(handle);
                fsync.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }
        }
        var rawCpu = Process.GetCurrentProcess().TotalProcessorTime - rawCpuBefore;
        File.Delete(raw);
        Report("raw write+fsync of one 600-byte line", fsync);
        Console.WriteLine($"  CPU per raw write+fsync (this process, kernel time included): {rawCpu.TotalMicroseconds / fsync.Count:F0} µs");

        // 2. One durable append at a time: latency.
        var dir = Fresh(root, "latency");
        var latency = new List<double>();
        await using (var log = AuditLog.Open(dir))
        {
            for (var i = 0; i < 2000; i++)
            {
                var receipt = signer.SignRequest(Action(i)).Json;
                var t = Stopwatch.GetTimestamp();
                await log.AppendAsync(receipt);
                latency.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }
        }
        Report("durable AppendAsync, 1 writer (latency)", latency);

        // 3. Throughput: sign + append, 1 and 16 writers, durable; then fast.
        await Throughput(root, signer, AuditDurability.Durable, writers: 1, perWriter: 3000);
        await Throughput(root, signer, AuditDurability.Durable, writers: 16, perWriter: 3000);
        await Throughput(root, signer, AuditDurability.Fast, writers: 1, perWriter: 20000);
        await Throughput(root, signer, AuditDurability.Fast, writers: 16, perWriter: 3000);

        // 4. Verify an N-record log.
        return await VerifyBig(root, signer, records, parallel, keep: false, signatures: false);
    }

    /// <summary>Writes an N-record log (fast mode; receipts signed once and varied by nonce) unless one is there, then times verify.</summary>
    private static async Task<int> VerifyBig(string root, ReceiptSigner signer, int records, int parallel, bool keep, bool signatures)
    {
        var big = Path.Combine(root, signatures ? "verify-signed" : "verify");
        var existing = keep && Directory.Exists(big) && Directory.GetFiles(big, "*.jsonl").Length > 0;
        if (!existing)
        {
            big = Fresh(root, signatures ? "verify-signed" : "verify");
            var template = signer.SignRequest(Action(0)).Json;
            var write = Stopwatch.StartNew();
            await using (var log = AuditLog.Open(big, new AuditLogOptions { Durability = AuditDurability.Fast }))
            {
                var pending = new List<Task>(4096);
                for (var i = 0; i < records; i++)
                {
                    // Checking signatures needs receipts that verify: each one signed; otherwise one signed receipt varied.
                    JsonObject r;
                    if (signatures)
                    {
                        r = signer.SignRequest(Action(i)).Json;
                    }
                    else
                    {
                        r = (JsonObject)template.DeepClone();
                        r["nonce"] = $"rnd_{i:x32}";
                    }
                    pending.Add(log.AppendAsync(r).AsTask());
                    if (pending.Count == 4096)
                    {
                        await Task.WhenAll(pending);
                        pending.Clear();
                    }
                }
                await Task.WhenAll(pending);
            }
            Console.WriteLine($"wrote {records:N0} records in {write.Elapsed.TotalSeconds:F1} s");
        }
        var bytes = Directory.GetFiles(big, "*.jsonl").Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"log: {big}, {bytes / 1048576.0:F0} MiB{(existing ? " (kept from an earlier run)" : "")}");
        AuditVerifyResult? result = null;
        // With a kept log, two rounds: the first may read the files from disk, the second finds them in the page cache.
        for (var round = 0; round < (keep ? 2 : 1); round++)
        {
            GC.Collect();
            var before = GC.GetTotalMemory(true);
            Console.WriteLine($"load average before verify: {LoadAverage()}");
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var verify = Stopwatch.StartNew();
            result = AuditVerifier.Verify(big, new AuditVerifyOptions { MaxDegreeOfParallelism = parallel, VerifySignatures = signatures });
            verify.Stop();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            var peak = Process.GetCurrentProcess().PeakWorkingSet64;
            Console.WriteLine($"verify {result.RecordCount:N0} records{(signatures ? $" with signatures ({result.SignaturesChecked:N0} checked, {result.SignatureFailures.Count} failed)" : "")} ({parallel} thread(s)): {verify.Elapsed.TotalSeconds:F2} s = {result.RecordCount / verify.Elapsed.TotalSeconds:N0} records/s, intact={result.IsIntact}, CPU {cpu.TotalSeconds:F2} s = {result.RecordCount / cpu.TotalSeconds:N0} records per CPU-second ({cpu.TotalMicroseconds / result.RecordCount:F2} µs CPU per record), peak working set {peak / 1048576} MiB (heap before {before / 1048576} MiB)");
            Console.WriteLine($"load average after verify: {LoadAverage()}");
        }
        if (!keep)
        {
            Directory.Delete(root, recursive: true);
        }
        return result!.IsValid && (existing || result.RecordCount == records) ? 0 : 1;
    }

    private static async Task Throughput(string root, ReceiptSigner signer, AuditDurability mode, int writers, int perWriter)
    {
        var dir = Fresh(root, $"{mode}-{writers}");
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        (long Batches, long Records, long Syncs) stats;
        await using (var log = AuditLog.Open(dir, new AuditLogOptions { Durability = mode }))
        {
            await SignAndAppendAsync(log, signer, writers, perWriter);
            stats = log.Statistics;
        }
        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var total = writers * perWriter;
        var check = AuditVerifier.Verify(dir);
        Console.WriteLine($"{mode.ToString().ToLowerInvariant(),-7} sign+append, {writers,2} writers: {total / clock.Elapsed.TotalSeconds,9:N0} receipts/s ({total:N0} in {clock.Elapsed.TotalSeconds:F2} s, chain intact={check.IsIntact && check.RecordCount == total}, CPU {cpu.TotalSeconds:F2} s, {stats.Records / (double)Math.Max(1, stats.Batches):F1} records per write, {stats.Syncs:N0} fsyncs)");
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";

    /// <summary><paramref name="writers"/> tasks each signing and appending <paramref name="perWriter"/> receipts.</summary>
    internal static Task SignAndAppendAsync(AuditLog log, ReceiptSigner signer, int writers, int perWriter) =>
        Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < perWriter; i++)
            {
                await log.AppendAsync(signer.SignRequest(Action(w * perWriter + i)).Json);
            }
        })));

    /// <summary>A realistic write_file call, numbered.</summary>
    internal static ReceiptAction Action(int i) => new()
    {
        Tool = "write_file",
        Params = new JsonObject
        {
            ["path"] = $"/home/user/projects/app/src/components/Header{i}.tsx",
            ["content"] = "export function Header() { return <h1>Hello, wörld</h1>; }",
            ["options"] = new JsonObject { ["createDirectories"] = true, ["encoding"] = "utf-8", ["mode"] = 420 },
        },
        Target = "mcp://filesystem",
        Session = "bench",
        CallId = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>ROOT/NAME, removed first if a previous run left it.</summary>
    internal static string Fresh(string root, string name)
    {
        var dir = Path.Combine(root, name);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        return dir;
    }

    /// <summary>Prints p50, p99, mean and max of latencies in microseconds.</summary>
    internal static void Report(string what, List<double> micros)
    {
        micros.Sort();
        double P(double q) => micros[Math.Min(micros.Count - 1, (int)(q * micros.Count))];
        Console.WriteLine($"{what}: p50 {P(0.50):F0} µs, p99 {P(0.99):F0} µs, mean {micros.Average():F0} µs, max {micros[^1]:F0} µs (n={micros.Count})");
    }
}
