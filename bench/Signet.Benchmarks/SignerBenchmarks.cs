using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Signet.Canonicalization;
using Signet.Cli.Pkcs11;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary>
/// One Ed25519 signature in process (NSec/libsodium) next to one through a SoftHSM2 token (PKCS#11, <c>CKM_EDDSA</c>),
/// a whole v1 receipt with each, and concurrent signing through the session pool against one lock around the token.
/// </summary>
/// <remarks>Needs SoftHSM2 (Debian package softhsm2); the token is initialised in a temporary folder by the setup.</remarks>
[MemoryDiagnoser]
public class SignerBenchmarks
{
    private const string Module = "/usr/lib/softhsm/libsofthsm2.so";
    private const string Pin = "bench-pin-1234";
    private const int Signatures = 64;

    private readonly Lock _gate = new();
    private string _folder = null!;
    private SigningKey _file = null!;
    private Pkcs11Signer _token = null!;
    private ReceiptSigner _fileReceipts = null!;
    private ReceiptSigner _tokenReceipts = null!;
    private byte[] _message = null!;
    private JsonNode _params = null!;

    /// <summary>Threads signing at once in the concurrent benchmarks.</summary>
    [Params(1, 4)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (!File.Exists(Module))
        {
            throw new InvalidOperationException($"{Module} is missing: install the Debian/Ubuntu package softhsm2");
        }
        _folder = Directory.CreateTempSubdirectory("signet-bench-softhsm-").FullName;
        Directory.CreateDirectory(Path.Combine(_folder, "tokens"));
        var config = Path.Combine(_folder, "softhsm2.conf");
        File.WriteAllText(config, $"directories.tokendir = {Path.Combine(_folder, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n");
        // SoftHSM2 reads the C environment, which Environment.SetEnvironmentVariable does not change on Unix.
        if (setenv("SOFTHSM2_CONF", config, 1) != 0)
        {
            throw new InvalidOperationException("setenv SOFTHSM2_CONF failed");
        }
        var util = new ProcessStartInfo("softhsm2-util") { UseShellExecute = false };
        foreach (var arg in new[] { "--init-token", "--free", "--label", "bench", "--pin", Pin, "--so-pin", "bench-so-pin" })
        {
            util.ArgumentList.Add(arg);
        }
        util.Environment["SOFTHSM2_CONF"] = config;
        using (var init = Process.Start(util)!)
        {
            init.WaitForExit();
            if (init.ExitCode != 0)
            {
                throw new InvalidOperationException($"softhsm2-util --init-token failed ({init.ExitCode})");
            }
        }
        var uri = Pkcs11Uri.Parse("pkcs11:token=bench;object=agent");
        var pin = PassphraseSource.Fixed(Pin);
        Pkcs11Keys.Generate(Module, uri, pin, RandomSource.Cryptographic);
        _token = Pkcs11Signer.Open(Module, uri, pin);
        _file = SigningKey.Generate();
        _fileReceipts = new ReceiptSigner(_file, "bench-agent", "bench");
        _tokenReceipts = new ReceiptSigner(_token, "bench-agent", "bench");
        // The same 300-byte canonical params as ReceiptBenchmarks.
        _params = StrictJson.Parse("""
            {"path":"/home/user/projects/app/src/components/Header.tsx","content":"export function Header() { return <h1>Hello, wörld</h1>; }","options":{"createDirectories":true,"encoding":"utf-8","mode":420},"tags":["edit","ui",3,4.5],"dryRun":false,"reason":"rename the header component after review"}
            """)!;
        _message = System.Text.Encoding.UTF8.GetBytes(JsonCanonicalizer.CanonicalizeToString(_params));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _token.Dispose();
        _file.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "Ed25519 sign (300 B), in process")]
    public byte[] FileSign() => _file.Sign(_message);

    [Benchmark(Description = "Ed25519 sign (300 B), SoftHSM2 via PKCS#11")]
    public byte[] TokenSign() => _token.Sign(_message);

    [Benchmark(Description = "sign a v1 receipt, in process")]
    public Receipt FileReceipt() => _fileReceipts.SignRequest(Action());

    [Benchmark(Description = "sign a v1 receipt, SoftHSM2 via PKCS#11")]
    public Receipt TokenReceipt() => _tokenReceipts.SignRequest(Action());

    [Benchmark(OperationsPerInvoke = Signatures, Description = "SoftHSM2: 64 signatures on Threads threads, session pool (per signature)")]
    public void TokenPool() => Parallel(() => _token.Sign(_message));

    [Benchmark(OperationsPerInvoke = Signatures, Description = "SoftHSM2: 64 signatures on Threads threads, one lock (per signature)")]
    public void TokenLock() => Parallel(() =>
    {
        lock (_gate)
        {
            _token.Sign(_message);
        }
    });

    /// <summary>64 signatures split across <see cref="Threads"/> threads: the mean is wall time per signature.</summary>
    private void Parallel(Action sign)
    {
        if (Threads == 1)
        {
            for (var i = 0; i < Signatures; i++)
            {
                sign();
            }
            return;
        }
        var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
        {
            for (var i = 0; i < Signatures / Threads; i++)
            {
                sign();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
    }

    private ReceiptAction Action() => new() { Tool = "write_file", Params = _params, Target = "mcp://filesystem", CallId = "n:42" };

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
