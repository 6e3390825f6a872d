using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Audit;
using Signet.Bridge.Witness;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Benchmarks;

/// <summary>
/// <c>--harness witness [DIR] [--requests N] [--logs L]</c>: <c>signet witness serve</c>'s add-checkpoint rate over real
/// HTTP (Kestrel, one keep-alive HttpClient per log) on real files with fsync. For each of L logs (default 1 and 4,
/// each its own origin and key) it prepares N successive checkpoints (sizes 1..N, each with the consistency proof from
/// the one before), then sends them in order, the logs in parallel. In the same run: the bare primitive under every
/// request (replace a small file with fsync and rename, then fsync the directory) and the witness without HTTP.
/// </summary>
internal static class WitnessHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? Path.Combine(Path.GetTempPath(), "signet-witness-bench");
        var requests = args.SkipWhile(a => a != "--requests").Skip(1).Select(int.Parse).FirstOrDefault(2000);
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
        Directory.CreateDirectory(root);
        Console.WriteLine($"witness harness: {root}, {requests} add-checkpoint requests per log, {Environment.ProcessorCount} cores");

        // The primitive: what every cosignature waits for (the witness persists before it answers).
        var file = Path.Combine(root, "primitive", "checkpoint");
        var content = new byte[400];
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 500; i++)
        {
            DurableFile.Replace(file, content);
        }
        var primitive = 500 / sw.Elapsed.TotalSeconds;
        Console.WriteLine($"durable replace (write+fsync+rename+dir fsync): {primitive:F0}/s ({1000 / primitive:F2} ms each)");

        var logs = new List<LogUnderTest>();
        for (var l = 0; l < 4; l++)
        {
            logs.Add(await LogUnderTest.CreateAsync(Path.Combine(root, $"log{l}"), $"bench.test/log{l}", requests));
        }

        // The witness alone, no HTTP, one log.
        using (var witnessKey = SigningKey.Generate())
        using (var witness = Witness.Open(Path.Combine(root, "state-direct"), "bench.test/witness", witnessKey, [logs[0].Signer.VerifierKey]))
        {
            sw.Restart();
            foreach (var body in logs[0].Bodies)
            {
                var answer = witness.AddCheckpoint(body);
                if (answer.StatusCode != 200)
                {
                    throw new InvalidOperationException($"witness answered {answer.StatusCode}: {answer.Body}");
                }
            }
            Console.WriteLine($"witness without HTTP, 1 log: {requests / sw.Elapsed.TotalSeconds:F0} add-checkpoint/s");
        }

        foreach (var count in new[] { 1, 4 })
        {
            using var witnessKey = SigningKey.Generate();
            using var witness = Witness.Open(Path.Combine(root, $"state-http{count}"), "bench.test/witness", witnessKey, logs.Take(count).Select(l => l.Signer.VerifierKey));
            var options = new WitnessServerOptions();
            options.Listen.Add("127.0.0.1:0");
            await using var server = WitnessServer.Create(witness, options, NullLoggerFactory.Instance);
            await server.StartAsync();
            var url = new Uri(server.Addresses[0], "/add-checkpoint");
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            sw.Restart();
            await Task.WhenAll(logs.Take(count).Select(log => Task.Run(async () =>
            {
                using var http = new HttpClient();
                foreach (var body in log.Bodies)
                {
                    using var response = await http.PostAsync(url, new ByteArrayContent(body));
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new InvalidOperationException($"witness answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }
                }
            })));
            var elapsed = sw.Elapsed.TotalSeconds;
            var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
            Console.WriteLine($"witness over HTTP, {count} log(s) in parallel: {count * requests / elapsed:F0} add-checkpoint/s, {cpuMs * 1000 / (count * requests):F0} µs CPU per request (client and server in this process)");
        }
        return 0;
    }

    /// <summary>A log of N records and the N add-checkpoint bodies that walk a witness from size 0 to N.</summary>
    private sealed class LogUnderTest
    {
        public required NoteSigner Signer { get; init; }

        public required List<byte[]> Bodies { get; init; }

        public static async Task<LogUnderTest> CreateAsync(string directory, string origin, int size)
        {
            Directory.CreateDirectory(directory);
            await using (var log = AuditLog.Open(directory, new AuditLogOptions { Durability = AuditDurability.Fast }))
            {
                for (var i = 0; i < size; i++)
                {
                    await log.AppendAsync(new JsonObject { ["v"] = 1, ["id"] = $"rec_{i}", ["n"] = i });
                }
            }
            var key = SigningKey.Generate();
            var signer = new NoteSigner(origin, key);
            using var tree = AuditTree.Open(directory);
            var bodies = new List<byte[]>(size);
            for (long n = 1; n <= size; n++)
            {
                var checkpoint = SignedCheckpoint.Create(new Checkpoint(origin, n, tree.RootAt(n)), signer);
                var proof = n == 1 ? (IReadOnlyList<byte[]>)[] : tree.ConsistencyProof(n - 1, n);
                bodies.Add(Encoding.UTF8.GetBytes(AddCheckpointRequest.Format(n - 1, proof, checkpoint)));
            }
            return new LogUnderTest { Signer = signer, Bodies = bodies };
        }
    }
}
