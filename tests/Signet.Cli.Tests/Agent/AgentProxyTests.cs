using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Cli.Tests.Commands;
using Signet.Cli.Tests.Pkcs11;
using Signet.Core.Tests.Keys;
using Signet.Keys;

namespace Signet.Cli.Tests.Agent;

/// <summary>
/// <c>signet proxy --agent SOCKET</c> in front of server-everything from npm, signing through a real <c>signet agent</c>:
/// the proxy never holds the key, its passphrase or its PIN, and its receipts verify.
/// </summary>
public sealed class AgentProxyTests : IDisposable
{
    private const string Passphrase = "proxy-never-sees-this-4b1d";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [RootFact("the proxy runs as uid 65534, who cannot read the agent's key file")]
    public async Task Proxy_AgentKeyUnreadableToTheProxy_RealCallsSignedAndReceiptsVerify()
    {
        var home = _dir.File("agent-home");
        var publicKey = KeyStore.ForHome(home).CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase), owner: "ops").PublicKey;
        var keyFile = Path.Combine(home, "keys", "agent.key");
        var socket = _dir.File("run/agent.sock");
        await using var agent = await AgentProcess.StartAsync(["--home", home, "--key", "agent", "--socket", socket, "--allow-uid", "65534"],
            new Dictionary<string, string?> { [PassphraseSource.EnvironmentVariable] = Passphrase });
        var proxyHome = _dir.File("proxy-home");
        Directory.CreateDirectory(proxyHome);
        await ProcessRun.GiveToNobodyAsync(proxyHome);
        ProcessRun.RequireReachableByNobody(SignetProcess.Executable);
        ProcessRun.RequireReachableByNobody(InteropPeers.Server("server-everything"));
        var proxyEnv = new Dictionary<string, string?> { ["HOME"] = proxyHome };

        var (catExit, _, _) = await ProcessRun.RunAsync(ProcessRun.AsNobody[0], [.. ProcessRun.AsNobody.Skip(1), "cat", keyFile], proxyEnv);
        Assert.NotEqual(0, catExit);

        await using var proxy = SignetProcess.StartWith(ProcessRun.AsNobody,
            ["proxy", "--agent", socket, "--home", proxyHome, "--", "node", InteropPeers.Server("server-everything"), "stdio"], proxyEnv);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}\n");
        await ReadResponseAsync(proxy, 1);
        await proxy.SendAsync("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
        for (var id = 2; id <= 4; id++)
        {
            await proxy.SendAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"message\":\"call {id}\"}}}}}}\n");
            var response = await ReadResponseAsync(proxy, id);
            Assert.Contains($"call {id}", response["result"]!.ToJsonString(), StringComparison.Ordinal);
        }

        var status = await File.ReadAllTextAsync($"/proc/{proxy.Id}/status");
        Assert.Contains("\nUid:\t65534\t65534", status, StringComparison.Ordinal);
        var environ = await File.ReadAllTextAsync($"/proc/{proxy.Id}/environ");
        var cmdline = await File.ReadAllTextAsync($"/proc/{proxy.Id}/cmdline");
        Assert.Contains("HOME=" + proxyHome, environ, StringComparison.Ordinal);
        Assert.DoesNotContain(Passphrase, environ, StringComparison.Ordinal);
        Assert.DoesNotContain(Passphrase, cmdline, StringComparison.Ordinal);
        Assert.DoesNotContain("SIGNET_PASSPHRASE", environ, StringComparison.Ordinal);
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());

        var verify = await CliRunner.RunAsync(["log", "verify", "--home", proxyHome, "--pubkey", publicKey.Text]);
        Assert.True(verify.ExitCode == 0, verify.Out + verify.Error);
        var result = AuditVerifier.Verify(Path.Combine(proxyHome, "audit"), new AuditVerifyOptions { VerifySignatures = true, TrustedKeys = [publicKey] });
        Assert.Equal(6, result.RecordCount); // a v1 and a v2 receipt per call
    }

    [Fact]
    public async Task Proxy_AgentHoldingAPkcs11Key_CallsSignedByTheTokenKeyWithoutThePinInTheProxy()
    {
        using var hsm = SoftHsm.ForChildProcesses("T");
        const string uri = "pkcs11:token=T;object=agent";
        var (code, output, error) = await ProcessRun.RunAsync(SignetProcess.Executable, ["key", "new", "--pkcs11", uri], hsm.Variables());
        Assert.True(code == 0, error);
        var publicKey = PublicKey.Parse(output.Trim());
        var socket = _dir.File("agent.sock");
        await using var agent = await AgentProcess.StartAsync(["--key", uri, "--socket", socket, "--home", _dir.File("agent-home")], hsm.Variables());
        var home = _dir.File("proxy-home");

        var proxied = await ProcessRun.RunAsync("node",
            [InteropPeers.Script, "everything", SignetProcess.Executable, "proxy", "--home", home, "--agent", socket, "--", "node", InteropPeers.Server("server-everything"), "stdio"],
            new Dictionary<string, string?>());

        Assert.True(proxied.ExitCode == 0, proxied.Error);
        var result = AuditVerifier.Verify(Path.Combine(home, "audit"), new AuditVerifyOptions { VerifySignatures = true, TrustedKeys = [publicKey] });
        Assert.True(result.IsValid, result.Break?.Message ?? string.Join("; ", result.SignatureFailures.Select(f => f.Reason)));
        Assert.Equal(52, result.RecordCount);
        var lockExit = await CliRunner.RunAsync(["agent", "lock", "--socket", socket]);
        var unlock = await ProcessRun.RunAsync(SignetProcess.Executable, ["agent", "unlock", "--socket", socket], hsm.Variables());
        Assert.Equal(0, lockExit.ExitCode);
        Assert.True(unlock.ExitCode == 0, unlock.Error);
        using var signer = AgentSigner.Connect(socket);
        Assert.Equal("agent", signer.Name);
        Assert.Contains("PKCS#11 token \"T\"", signer.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_AgentSocket_NotInTheToolServersEnvironment()
    {
        var home = _dir.File("home");
        KeyStore.ForHome(home).CreateUnencrypted("agent");
        var socket = _dir.File("agent.sock");
        var log = _dir.File("agent.log");
        await using var agent = await AgentProcess.StartAsync(["--home", home, "--key", "agent", "--socket", socket, "--log", log], new Dictionary<string, string?>());

        var output = await ProcessRun.RunAsync("node",
            [InteropPeers.Script, "env", SignetProcess.Executable, "proxy", "--home", _dir.File("proxy-home"), "--", "node", InteropPeers.Server("server-everything"), "stdio"],
            new Dictionary<string, string?> { ["SIGNET_AGENT_SOCK"] = socket });

        Assert.True(output.ExitCode == 0, output.Error);
        Assert.DoesNotContain("SIGNET_AGENT_SOCK", output.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(socket, output.Out, StringComparison.Ordinal);
        Assert.Contains("\"tool\":\"get-env\"", File.ReadAllText(log), StringComparison.Ordinal);
    }

    private static async Task<JsonNode> ReadResponseAsync(SignetProcess proxy, int id)
    {
        while (true)
        {
            var message = JsonNode.Parse(await proxy.ReadLineAsync())!;
            if (message["id"] is JsonValue v && v.TryGetValue<int>(out var got) && got == id)
            {
                Assert.Null(message["error"]);
                return message;
            }
        }
    }
}
