using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Keys;
using Signet.Receipts;
using Signet.Transparency;

namespace Signet.Benchmarks;

/// <summary>
/// <c>--harness tree [DIR] [--records N] [--proof-leaves M] [--skip-appends | --appends-only [--rounds R]]</c>: the Merkle tree over the audit log.
/// (1) catches up the tiles of an N-record log (default 1,000,000) written without them, and reports the tile storage
/// per record; (2) on an M-leaf tree (default 10,000,000, built by catching up a log of M small records
/// <c>{"i":N}</c>) times inclusion and consistency proofs, produced and verified; (3) durable and fast append
/// throughput and CPU with the tree kept and without it, alternating in the same run.
/// </summary>
internal static class TreeHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? Path.Combine(Path.GetTempPath(), "signet-tree-bench");
        var records = args.SkipWhile(a => a != "--records").Skip(1).Select(int.Parse).FirstOrDefault(1_000_000);
        var proofLeaves = args.SkipWhile(a => a != "--proof-leaves").Skip(1).Select(long.Parse).FirstOrDefault(10_000_000);
        Directory.CreateDirectory(root);
        Console.WriteLine($"tree harness: directory {root}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        using var key = SigningKey.Generate();
        var signer = new ReceiptSigner(key, "bench-agent", "bench");

        var rounds = args.SkipWhile(a => a != "--rounds").Skip(1).Select(int.Parse).FirstOrDefault(2);
        if (!args.Contains("--appends-only"))
        {
            await CatchUpBig(root, signer, records);
            ProofTimes(root, proofLeaves);
        }
        if (!args.Contains("--skip-appends"))
        {
            for (var round = 0; round < rounds; round++)
            {
                foreach (var tree in new[] { false, true })
                {
                    await Throughput(root, signer, AuditDurability.Durable, 1, 3000, tree);
                    await Throughput(root, signer, AuditDurability.Durable, 16, 2000, tree);
                    await Throughput(root, signer, AuditDurability.Fast, 1, 20000, tree);
                }
            }
        }
        Directory.Delete(root, recursive: true);
        return 0;
    }

    private static async Task CatchUpBig(string root, ReceiptSigner signer, int records)
    {
        var dir = AuditHarness.Fresh(root, "catchup");
        var template = signer.SignRequest(AuditHarness.Action(0)).Json;
        await using (var log = AuditLog.Open(dir, new AuditLogOptions { Durability = AuditDurability.Fast, Tree = false }))
        {
            var pending = new List<Task>(4096);
            for (var i = 0; i < records; i++)
            {
                var r = (JsonObject)template.DeepClone();
                r["nonce"] = $"rnd_{i:x32}";
                pending.Add(log.AppendAsync(r).AsTask());
                if (pending.Count == 4096)
                {
                    await Task.WhenAll(pending);
                    pending.Clear();
                }
            }
            await Task.WhenAll(pending);
        }
        var logBytes = Directory.GetFiles(dir, "*.jsonl").Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"log of {records:N0} records without tiles: {logBytes / 1048576.0:F0} MiB ({logBytes / (double)records:F0} bytes per record)");
        for (var round = 0; round < 2; round++)
        {
            if (Directory.Exists(Path.Combine(dir, "tile")))
            {
                Directory.Delete(Path.Combine(dir, "tile"), recursive: true);
                File.Delete(Path.Combine(dir, "tree.index"));
            }
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            using var tree = AuditTree.Open(dir);
            clock.Stop();
            cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            Console.WriteLine($"catch-up from no tiles (round {round + 1}): {tree.Size:N0} records in {clock.Elapsed.TotalSeconds:F2} s = {tree.Size / clock.Elapsed.TotalSeconds:N0} records/s, CPU {cpu.TotalSeconds:F2} s, {tree.OpenCatchUp.TilesWritten:N0} tiles written");
        }
        var scanCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var scan = Stopwatch.StartNew();
        long scanned = 0;
        AuditTreeScanner.Scan(dir, default, (_, _, in _) => { scanned++; return true; });
        scan.Stop();
        scanCpu = Process.GetCurrentProcess().TotalProcessorTime - scanCpu;
        Console.WriteLine($"read + leaf-hash only (no tiles): {scanned:N0} records in {scan.Elapsed.TotalSeconds:F2} s = {scanned / scan.Elapsed.TotalSeconds:N0} records/s, CPU {scanCpu.TotalSeconds:F2} s");
        var tileBytes = Directory.GetFiles(Path.Combine(dir, "tile"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        var indexBytes = new FileInfo(Path.Combine(dir, "tree.index")).Length;
        Console.WriteLine($"storage: tiles {tileBytes:N0} bytes = {tileBytes / (double)records:F2} bytes per record; with the resume index {(tileBytes + indexBytes) / (double)records:F2} bytes per record (limit 1.1 x 32 = 35.2)");
        var reopen = Stopwatch.StartNew();
        using (var resumed = AuditTree.Open(dir))
        {
            reopen.Stop();
            Console.WriteLine($"reopen (resume after the last full tile, check it against the JSONL): {reopen.Elapsed.TotalMilliseconds:F0} ms, rebuilt={resumed.OpenCatchUp.Rebuilt}");
            var check = Stopwatch.StartNew();
            var result = resumed.Check();
            Console.WriteLine($"Check of {resumed.Size:N0} leaves: {check.Elapsed.TotalSeconds:F2} s, ok={result.Ok}");
        }
    }

    private static void ProofTimes(string root, long leaves)
    {
        var dir = AuditHarness.Fresh(root, "proofs");
        Directory.CreateDirectory(dir);
        using (var file = new StreamWriter(Path.Combine(dir, "2026-12-01.jsonl"), false, new UTF8Encoding(false), 1 << 20))
        {
            for (long i = 0; i < leaves; i++)
            {
                file.Write("{\"i\":");
                file.Write(i);
                file.Write("}\n");
            }
        }
        var build = Stopwatch.StartNew();
        using (AuditTree.Open(dir))
        {
        }
        Console.WriteLine($"{leaves:N0}-leaf tree built from a log of {{\"i\":N}} records in {build.Elapsed.TotalSeconds:F1} s");

        using var tree = AuditTree.Open(dir);
        var size = tree.Size;
        var random = new Random(16);
        var prove = new List<double>();
        var verify = new List<double>();
        var proveC = new List<double>();
        var verifyC = new List<double>();
        var rootHash = tree.RootAt(size);
        for (var i = 0; i < 2000; i++)
        {
            var index = random.NextInt64(0, size);
            var t = Stopwatch.GetTimestamp();
            var proof = tree.InclusionProof(index, size);
            var leaf = tree.LeafHash(index);
            prove.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            t = Stopwatch.GetTimestamp();
            MerkleTree.VerifyInclusion(index, size, leaf, proof, rootHash);
            verify.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);

            var old = random.NextInt64(1, size);
            t = Stopwatch.GetTimestamp();
            var oldRoot = tree.RootAt(old);
            var consistency = tree.ConsistencyProof(old, size);
            proveC.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            t = Stopwatch.GetTimestamp();
            MerkleTree.VerifyConsistency(old, size, oldRoot, rootHash, consistency);
            verifyC.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
        }
        AuditHarness.Report($"inclusion proof + leaf hash, {size:N0} leaves (produce)", prove);
        AuditHarness.Report("inclusion proof (verify)", verify);
        AuditHarness.Report($"old root + consistency proof, {size:N0} leaves (produce)", proveC);
        AuditHarness.Report("consistency proof (verify)", verifyC);
    }

    private static async Task Throughput(string root, ReceiptSigner signer, AuditDurability mode, int writers, int perWriter, bool tree)
    {
        var dir = AuditHarness.Fresh(root, $"{mode}-{writers}-{tree}");
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await using (var log = AuditLog.Open(dir, new AuditLogOptions { Durability = mode, Tree = tree }))
        {
            await AuditHarness.SignAndAppendAsync(log, signer, writers, perWriter);
        }
        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var total = writers * perWriter;
        var size = tree ? AuditTree.Open(dir).Size : 0;
        Console.WriteLine($"{mode.ToString().ToLowerInvariant(),-7} sign+append, {writers,2} writers, tree {(tree ? "on " : "off")}: {total / clock.Elapsed.TotalSeconds,9:N0} receipts/s, CPU {cpu.TotalMicroseconds / total:F1} µs per record (close included){(tree ? $", tree size after close {size:N0}" : "")}");
    }
}
