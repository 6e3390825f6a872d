using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary>The per-call cost of signing: canonical JSON, Ed25519, and whole receipts.</summary>
[MemoryDiagnoser]
public class ReceiptBenchmarks
{
    // A typical tools/call arguments object, about 300 bytes as JSON.
    private const string ParamsJson = """
        {"path":"/home/user/projects/app/src/components/Header.tsx","content":"export function Header() { return <h1>Hello, wörld</h1>; }","options":{"createDirectories":true,"encoding":"utf-8","mode":420},"tags":["edit","ui",3,4.5],"dryRun":false,"reason":"rename the header component after review"}
        """;

    private JsonNode _params = null!;
    private SigningKey _key = null!;
    private ReceiptSigner _signer = null!;
    private byte[] _receiptJson = null!;
    private byte[] _message = null!;
    private byte[] _signature = null!;
    private ReceiptVerificationOptions _options = null!;

    [GlobalSetup]
    public void Setup()
    {
        _params = StrictJson.Parse(ParamsJson)!;
        _key = SigningKey.Generate();
        _signer = new ReceiptSigner(_key, "bench-agent", "bench");
        var receipt = _signer.SignRequest(Action());
        _receiptJson = Encoding.UTF8.GetBytes(receipt.ToJsonString());
        _message = Encoding.UTF8.GetBytes(JsonCanonicalizer.CanonicalizeToString(_params));
        _signature = _key.Sign(_message);
        _options = new ReceiptVerificationOptions { TrustedKeys = [_key.PublicKey] };
        if (_message.Length < 250 || _message.Length > 350)
        {
            throw new InvalidOperationException($"params are {_message.Length} bytes; the target is about 300");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _key.Dispose();

    [Benchmark(Description = "canonicalize + SHA-256 of ~300-byte params")]
    public string CanonicalizeAndHash() => JsonCanonicalizer.Sha256(_params);

    [Benchmark(Description = "Ed25519 sign (300 B)")]
    public byte[] Ed25519Sign() => _key.Sign(_message);

    [Benchmark(Description = "Ed25519 verify (300 B)")]
    public bool Ed25519Verify() => _key.PublicKey.Verify(_message, _signature);

    [Benchmark(Description = "sign a v1 receipt (hash params, canonicalize, sign)")]
    public Receipt SignReceipt() => _signer.SignRequest(Action());

    [Benchmark(Description = "verify a v1 receipt, strict (parse, all checks)")]
    public bool VerifyReceipt() => ReceiptVerifier.Verify(_receiptJson, _options).IsValid;

    private ReceiptAction Action() => new() { Tool = "write_file", Params = _params, Target = "mcp://filesystem", CallId = "n:42" };
}
