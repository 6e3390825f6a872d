using System.Diagnostics;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary><c>--harness audit-profile</c>: single-threaded CPU cost of each step of an append and of verification.</summary>
internal static class AuditProfile
{
    public static Task<int> RunAsync(string[] args)
    {
        using var key = SigningKey.Generate();
        var signer = new ReceiptSigner(key, "bench-agent", "bench");
        var action = new ReceiptAction
        {
            Tool = "write_file",
            Params = new JsonObject { ["path"] = "/home/user/a.tsx", ["content"] = "export function Header() { return <h1>Hello, wörld</h1>; }", ["options"] = new JsonObject { ["mode"] = 420 } },
            Target = "mcp://filesystem",
        };
        var receipt = signer.SignRequest(action).Json;
        var canonical = JsonCanonicalizer.Canonicalize(receipt);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        AuditRecordFormat.WriteLine(buffer, AuditRecordFormat.SerializeCompact(receipt), SignetHash.Genesis, AuditRecordFormat.RecordHash(SignetHash.Genesis, canonical));
        var line = buffer.WrittenSpan[..^1].ToArray();
        Console.WriteLine($"record line: {line.Length} bytes");

        Measure("ReceiptSigner.SignRequest", () => signer.SignRequest(action));
        Measure("  ActionJson", () => ReceiptSigner.ActionJson(action, out _));
        var signable = Signable.Canonical(receipt, 1);
        Console.WriteLine($"signable: {signable.Length} bytes");
        Measure("  key.Sign(signable)", () => key.Sign(signable));
        Measure("  Signable.Canonical(receipt)", () => Signable.Canonical(receipt, 1));
        Measure("  Timestamp", () => ReceiptText.Timestamp(DateTimeOffset.UtcNow));
        Measure("  Nonce", () => ReceiptText.Nonce(RandomSource.Cryptographic));
        Measure("  ReceiptId", () => ReceiptText.ReceiptId(new byte[64]));
        Measure("  ToUtf8(params)", () => ReceiptText.ToUtf8(action.Params!));
        Measure("  DeepClone(receipt)", () => receipt.DeepClone());
        Measure("JsonCanonicalizer.Canonicalize(receipt)", () => JsonCanonicalizer.Canonicalize(receipt));
        Measure("SerializeCompact(receipt)", () => AuditRecordFormat.SerializeCompact(receipt));
        Measure("RecordHash(prev, canonical bytes)", () => AuditRecordFormat.RecordHash(SignetHash.Genesis, canonical));
        Measure("StrictJson.Parse(record line)", () => StrictJson.Parse(line)!);
        var parsed = AuditRecordFormat.TryParse(line, out _, out _)!;
        Measure("RecordHash(prev, parsed receipt)", () => AuditRecordFormat.RecordHash(parsed.PrevHash, parsed.Receipt));
        Measure("AuditRecordFormat.TryParse + RecordHash", () => AuditRecordFormat.RecordHash(SignetHash.Genesis, AuditRecordFormat.TryParse(line, out _, out _)!.Receipt));
        var compact = AuditRecordFormat.SerializeCompact(receipt);
        Measure("JsonCanonicalizer.Canonicalize(receipt bytes)", () => JsonCanonicalizer.Canonicalize(compact.AsSpan()));
        Measure("AuditRecordFormat.TryHashRecord(line) (what verify does per record)", () => AuditRecordFormat.TryHashRecord(line, out _, out _, out _));

        var fastDir = Path.Combine(Path.GetTempPath(), "signet-audit-profile-fast");
        if (Directory.Exists(fastDir))
        {
            Directory.Delete(fastDir, true);
        }
        var fastLog = AuditLog.Open(fastDir, new AuditLogOptions { Durability = AuditDurability.Fast });
        Measure("fast AppendAsync (signed receipt)", () => fastLog.AppendAsync(receipt).AsTask().GetAwaiter().GetResult());
        fastLog.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(fastDir, true);
        var dir = Path.Combine(Path.GetTempPath(), "signet-audit-profile");
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, true);
        }
        var file = Path.Combine(dir, "2026-11-26.jsonl");
        Directory.CreateDirectory(dir);
        using (var output = new FileStream(file, FileMode.Create))
        {
            var prev = SignetHash.Genesis;
            for (var i = 0; i < 50000; i++)
            {
                var r = (JsonObject)receipt.DeepClone();
                r["nonce"] = $"rnd_{i:x32}";
                var hash = AuditRecordFormat.RecordHash(prev, JsonCanonicalizer.Canonicalize(r));
                buffer.ResetWrittenCount();
                AuditRecordFormat.WriteLine(buffer, AuditRecordFormat.SerializeCompact(r), prev, hash);
                output.Write(buffer.WrittenSpan);
                prev = hash;
            }
        }
        foreach (var threads in new[] { 1, 2, 1, 2 })
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var result = AuditVerifier.Verify(dir, new AuditVerifyOptions { MaxDegreeOfParallelism = threads });
            var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            Console.WriteLine($"verify 50k, {threads} thread(s): {used.TotalMicroseconds / result.RecordCount,6:F1} µs CPU/record, {result.RecordCount / wall.Elapsed.TotalSeconds,8:N0} records/s wall, intact={result.IsIntact}");
        }
        Directory.Delete(dir, true);
        return Task.FromResult(0);
    }

    private static bool s_warmedUp;

    private static void Measure(string name, Func<object> step)
    {
        // Warm up by time, not count: the JIT promotes hot methods to optimized code only after a delay, so a short
        // count-based warm-up measures unoptimized code for anything not precompiled in the framework. The first step
        // warms up longer: until then the JIT is still recompiling much of what every step calls, on other threads
        // (its CPU showed up above its wall time, and SignRequest measured 55–75 µs instead of 35–50 µs).
        var warm = Stopwatch.StartNew();
        var warmFor = s_warmedUp ? 500 : 3000;
        s_warmedUp = true;
        for (var i = 0; i < 2000 || warm.ElapsedMilliseconds < warmFor; i++)
        {
            step();
        }
        const int n = 20000;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            step();
        }
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine($"{name,-70} {used.TotalMicroseconds / n,8:F1} µs CPU, {wall.Elapsed.TotalMicroseconds / n,8:F1} µs wall");
    }
}
