using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary>
/// The agent's check of a server co-signature (v3) on each co-signed response: verified as a stranger's receipt (both
/// signatures), and as the agent that sent the embedded receipt (<see cref="ReceiptVerificationOptions.KnownAgentReceipt"/>:
/// the server's signature plus a canonical comparison), which is what SigningTransport and the proxy do.
/// </summary>
[MemoryDiagnoser]
public class CoSignatureBenchmarks
{
    private SigningKey _agentKey = null!;
    private SigningKey _serverKey = null!;
    private Receipt _sent = null!;
    private byte[] _v3Json = null!;
    private ReceiptVerificationOptions _stranger = null!;
    private ReceiptVerificationOptions _asAgent = null!;

    [GlobalSetup]
    public void Setup()
    {
        _agentKey = SigningKey.Generate();
        _serverKey = SigningKey.Generate();
        var arguments = JsonNode.Parse("""{"path":"/home/user/projects/app/src/components/Header.tsx","content":"export function Header() { return <h1>Hello</h1>; }","dryRun":false}""");
        _sent = new ReceiptSigner(_agentKey, "bench-agent", "bench").SignRequest(new ReceiptAction { Tool = "write_file", Params = arguments, Target = "mcp://filesystem", CallId = "n:42" });
        var response = JsonNode.Parse("""{"content":[{"type":"text","text":"wrote 52 bytes to /home/user/projects/app/src/components/Header.tsx"}],"isError":false}""");
        var v3 = new ReceiptSigner(_serverKey, "bench-server").CoSign(_sent, response, ReceiptOutcome.Executed);
        _v3Json = Encoding.UTF8.GetBytes(v3.ToJsonString());
        _stranger = new ReceiptVerificationOptions { TrustedKeys = [_serverKey.PublicKey] };
        _asAgent = _stranger with { KnownAgentReceipt = _sent };
        if (!ReceiptVerifier.Verify(_v3Json, _stranger).IsValid || !ReceiptVerifier.Verify(_v3Json, _asAgent).IsValid)
        {
            throw new InvalidOperationException("the co-signature does not verify");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _agentKey.Dispose();
        _serverKey.Dispose();
    }

    [Benchmark(Baseline = true, Description = "verify a v3 co-signature as a stranger (server and agent signatures)")]
    public bool AsStranger() => ReceiptVerifier.Verify(_v3Json, _stranger).IsValid;

    [Benchmark(Description = "verify a v3 co-signature as the agent that sent it (KnownAgentReceipt)")]
    public bool AsAgent() => ReceiptVerifier.Verify(_v3Json, _asAgent).IsValid;
}
