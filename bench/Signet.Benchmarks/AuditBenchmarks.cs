using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Signet.Audit;
using Signet.Canonicalization;

namespace Signet.Benchmarks;

/// <summary>The audit append path without the disk: record hashing and a fast-mode append (page cache only).</summary>
[MemoryDiagnoser]
public class AuditBenchmarks
{
    private JsonObject _receipt = null!;
    private byte[] _canonical = null!;
    private byte[] _compact = null!;
    private byte[] _line = null!;
    private readonly System.Buffers.ArrayBufferWriter<byte> _output = new(2048);
    private string _directory = null!;
    private AuditLog _log = null!;

    [GlobalSetup]
    public void Setup()
    {
        _receipt = (JsonObject)StrictJson.Parse("""
            {"v":1,"id":"rec_b8db2cb278ba469d26345f7aa44a1bb2","action":{"tool":"interop_empty_params","params":{"path":"/home/user/a.txt","n":[1,2.5,0]},"params_hash":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","target":"mcp://peer.test","transport":"stdio","session":"sess-1","call_id":"n:7"},"signer":{"pubkey":"ed25519:re0crWU/9YjQYx5F7TYI2YQ+hehKw6zPEpIV2OdVWoc=","name":"peer-agent","owner":"peer-owner"},"ts":"2026-11-26T12:47:26.163Z","nonce":"rnd_61181c20197d5dbca37d9bcebee880e2","sig":"ed25519:7WnrVPaFpxkgSI7743NgBRmh2tZ1wP8V6da0NGvQx3JbhgBqtUcVOUaDM34XWHgvdgRwR/xPn2jONnAKUU8YAw=="}
            """)!;
        _canonical = JsonCanonicalizer.Canonicalize(_receipt);
        // The verify benchmarks use a write_file receipt of about 800 bytes, the size the audit harness writes.
        var large = (JsonObject)_receipt.DeepClone();
        large["action"]!["params"] = new JsonObject
        {
            ["path"] = "/home/user/projects/app/src/components/Header.tsx",
            ["content"] = "export function Header() { return <h1>Hello, wörld</h1>; }",
            ["options"] = new JsonObject { ["createDirectories"] = true, ["encoding"] = "utf-8", ["mode"] = 420 },
        };
        _compact = AuditRecordFormat.SerializeCompact(large);
        var line = new System.Buffers.ArrayBufferWriter<byte>();
        AuditRecordFormat.WriteLine(line, _compact, SignetHash.Genesis, AuditRecordFormat.RecordHash(SignetHash.Genesis, large));
        _line = line.WrittenSpan[..^1].ToArray();
        if (_compact.Length < 700 || _compact.Length > 900)
        {
            throw new InvalidOperationException($"the receipt is {_compact.Length} bytes; the benchmark wants about 800");
        }
        _directory = Path.Combine(Path.GetTempPath(), "signet-audit-bdn-" + Guid.NewGuid().ToString("N"));
        _log = AuditLog.Open(_directory, new AuditLogOptions { Durability = AuditDurability.Fast });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>sha256(JCS({prev_hash, receipt})) from the receipt's canonical bytes.</summary>
    [Benchmark]
    public string RecordHash() => AuditRecordFormat.RecordHash(SignetHash.Genesis, _canonical);

    /// <summary>The receipt's canonical bytes from its compact JSON bytes, through a JsonNode tree (the strict parser).</summary>
    [Benchmark(Description = "canonicalize an ~800-byte receipt via StrictJson.Parse + JsonNode")]
    public byte[] CanonicalizeReceiptTree() => JsonCanonicalizer.Canonicalize(StrictJson.Parse(_compact));

    /// <summary>The receipt's canonical bytes straight from its bytes (Utf8JsonReader, no tree).</summary>
    [Benchmark(Description = "canonicalize an ~800-byte receipt from bytes")]
    public int CanonicalizeReceiptBytes()
    {
        _output.ResetWrittenCount();
        return JsonCanonicalizer.Canonicalize(_compact, _output);
    }

    /// <summary>What verify does per record: read the line, canonicalize the receipt, hash the frame.</summary>
    [Benchmark(Description = "check one record line (byte path)")]
    public bool HashRecordLine() => AuditRecordFormat.TryHashRecord(_line, out _, out _, out _);

    /// <summary>Canonicalize and copy the receipt, queue it, write it to the OS (fast mode), one writer.</summary>
    [Benchmark]
    public async Task<AuditAppendResult> AppendFast() => await _log.AppendAsync(_receipt);
}
