using System.Diagnostics;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Canonicalization;
using Signet.Cli.Tests.Commands;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Cli.Tests.Pkcs11;

/// <summary>
/// The official TypeScript SDK client → <c>signet proxy --key pkcs11:…</c> (a real process) → server-everything from
/// npm, signing with a key in a SoftHSM2 token of the test's own folder.
/// </summary>
public sealed class Pkcs11ProxyTests : IDisposable
{
    private readonly SoftHsm _hsm = SoftHsm.ForChildProcesses("T");
    private readonly TempDir _dir = new();

    public Pkcs11ProxyTests() => Home = _dir.File("home");

    private string Home { get; }

    private const string Uri = "pkcs11:token=T;object=agent";

    public void Dispose()
    {
        _dir.Dispose();
        _hsm.Dispose();
    }

    [Fact]
    public async Task Proxy_Pkcs11Key_ServerEverythingResultsIdenticalToDirectAndEveryReceiptVerifies()
    {
        var publicKey = PublicKey.Parse((await RunAsync(SignetProcess.Executable, ["key", "new", "--pkcs11", Uri], _hsm.Variables())).Trim());
        string[] server = ["node", InteropPeers.Server("server-everything"), "stdio"];

        var direct = await RunAsync("node", [InteropPeers.Script, "everything", .. server], new Dictionary<string, string?>());
        var proxied = await RunAsync("node", [InteropPeers.Script, "everything", SignetProcess.Executable, "proxy", "--home", Home, "--key", Uri, "--", .. server],
            _hsm.Variables());

        Assert.Equal(direct, proxied);
        var audit = Path.Combine(Home, "audit");
        var result = AuditVerifier.Verify(audit, new AuditVerifyOptions { VerifySignatures = true, TrustedKeys = [publicKey] });
        Assert.True(result.IsValid, result.Break?.Message ?? string.Join("; ", result.SignatureFailures.Select(f => f.Reason)));
        // 10 single calls and 16 parallel echoes (signed concurrently through the session pool), each with a v1 and a v2 receipt.
        Assert.Equal(52, result.RecordCount);
        await AssertNodeVerifiesAsync(audit, publicKey);
    }

    [Fact]
    public async Task Proxy_Pkcs11Key_PinAndModuleNotInTheServersEnvironment()
    {
        await RunAsync(SignetProcess.Executable, ["key", "new", "--pkcs11", Uri], _hsm.Variables());

        var output = await RunAsync("node",
            [InteropPeers.Script, "env", SignetProcess.Executable, "proxy", "--home", Home, "--key", Uri, "--", "node", InteropPeers.Server("server-everything"), "stdio"],
            _hsm.Variables());

        Assert.Contains("SOFTHSM2_CONF", output, StringComparison.Ordinal);
        Assert.DoesNotContain(SoftHsm.Pin, output, StringComparison.Ordinal);
        Assert.DoesNotContain("SIGNET_PKCS11_PIN", output, StringComparison.Ordinal);
        Assert.DoesNotContain("SIGNET_PKCS11_MODULE", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_Pkcs11KeyWithoutPin_ExitsBeforeStartingTheServerSayingWhereToPutIt()
    {
        await RunAsync(SignetProcess.Executable, ["key", "new", "--pkcs11", Uri], _hsm.Variables());
        var env = _hsm.Variables();
        env["SIGNET_PKCS11_PIN"] = null;
        var marker = _dir.File("server-started");

        await using var proxy = SignetProcess.Start(["proxy", "--home", Home, "--key", Uri, "--", "touch", marker], env);
        var exit = await proxy.CloseInputAndWaitAsync();

        Assert.Equal(1, exit);
        Assert.Contains("no PIN for token \"T\"", proxy.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task Bridge_Pkcs11Key_CallsOverHttpAreSignedByTheTokenKey()
    {
        var publicKey = PublicKey.Parse((await RunAsync(SignetProcess.Executable, ["key", "new", "--pkcs11", Uri], _hsm.Variables())).Trim());
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var info = new ProcessStartInfo(SignetProcess.Executable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "bridge", "--home", Home, "--key", Uri, "--listen", $"127.0.0.1:{port}", "--insecure-no-auth-loopback",
            "--", "node", InteropPeers.Server("server-everything"), "stdio" })
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in _hsm.Variables())
        {
            info.Environment[name] = value;
        }
        using var bridge = Process.Start(info)!;
        try
        {
            // Ready when it names its endpoint (after the key is opened and the port bound).
            string? line;
            var seen = new System.Text.StringBuilder();
            while ((line = await bridge.StandardError.ReadLineAsync().WaitAsync(SignetProcess.Timeout)) is not null && !line.Contains(" at http", StringComparison.Ordinal))
            {
                seen.AppendLine(line);
            }
            Assert.True(line is not null, $"the bridge stopped before serving: {seen}");
            Assert.Contains(publicKey.Text, line, StringComparison.Ordinal);
            _ = bridge.StandardError.ReadToEndAsync();

            var transport = new ModelContextProtocol.Client.HttpClientTransport(new ModelContextProtocol.Client.HttpClientTransportOptions
            {
                Endpoint = new System.Uri($"http://127.0.0.1:{port}/mcp"),
                TransportMode = ModelContextProtocol.Client.HttpTransportMode.StreamableHttp,
            });
            await using (var client = await ModelContextProtocol.Client.McpClient.CreateAsync(transport).WaitAsync(SignetProcess.Timeout))
            {
                await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "through the bridge" }).AsTask().WaitAsync(SignetProcess.Timeout);
            }
        }
        finally
        {
            bridge.Kill(entireProcessTree: true);
            await bridge.WaitForExitAsync().WaitAsync(SignetProcess.Timeout);
        }

        var result = AuditVerifier.Verify(Path.Combine(Home, "audit"), new AuditVerifyOptions { VerifySignatures = true, TrustedKeys = [publicKey] });
        Assert.True(result.IsValid, result.Break?.Message ?? string.Join("; ", result.SignatureFailures.Select(f => f.Reason)));
        Assert.Equal(2, result.RecordCount);
    }

    /// <summary>
    /// Every signature checked by Node's own Ed25519 (OpenSSL), over the signable our verifier derives: the token's
    /// signatures are plain RFC 8032 signatures that code we did not write accepts.
    /// </summary>
    private static async Task AssertNodeVerifiesAsync(string audit, PublicKey publicKey)
    {
        var lines = new List<string>();
        foreach (var line in Directory.GetFiles(audit, "*.jsonl").Order(StringComparer.Ordinal).SelectMany(File.ReadLines).Where(l => l.Length > 0))
        {
            var receipt = JsonNode.Parse(line)!["receipt"]!.AsObject();
            var writer = Utf8CanonicalWriter.Rent();
            try
            {
                Signable.Write(writer, receipt, (int)receipt["v"]!, null);
                var signature = ((string)receipt["sig"]!)["ed25519:".Length..];
                lines.Add($"{Convert.ToHexStringLower(writer.Written)} {signature}");
            }
            finally
            {
                Utf8CanonicalWriter.Return(writer);
            }
        }
        File.WriteAllLines(Path.Combine(audit, "..", "signatures.txt"), lines);
        var spki = Convert.ToBase64String([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, .. publicKey.Bytes]);
        const string script = """
            const crypto = require('node:crypto');
            const fs = require('node:fs');
            const key = crypto.createPublicKey({ key: Buffer.from(process.argv[1], 'base64'), format: 'der', type: 'spki' });
            const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
            const bad = lines.filter(l => { const [data, sig] = l.split(' '); return !crypto.verify(null, Buffer.from(data, 'hex'), key, Buffer.from(sig, 'base64')); });
            console.log(`${lines.length - bad.length}/${lines.length}`);
            """;
        var output = await RunAsync("node", ["-e", script, spki, Path.Combine(audit, "..", "signatures.txt")], new Dictionary<string, string?>());
        Assert.Equal($"{lines.Count}/{lines.Count}", output.Trim());
    }

    private static Task<string> RunAsync(string command, string[] args, IReadOnlyDictionary<string, string?> env) =>
        Agent.ProcessRun.RunOkAsync(command, args, env);
}
