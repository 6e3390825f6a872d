using System.Text.Json.Nodes;
using Signet.Cli.Pkcs11;
using Signet.Cli.Tests.Agent;
using Signet.Cli.Tests.Pkcs11;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Cli.Tests.Commands;

/// <summary>
/// <c>signet witness serve|vkey</c> with a key that is not a key file: a PKCS#11 token key (SoftHSM2) and a key held by
/// <c>signet agent</c>. Each witness is a real process; a log in another home publishes a checkpoint to it, and the
/// cosignature is checked by <c>log verify --witness-key</c>.
/// </summary>
public sealed class WitnessKeyTests : IDisposable
{
    private readonly TempDir _dir = new();

    public WitnessKeyTests()
    {
        LogHome = _dir.File("log-home");
        KeyStore.ForHome(LogHome).CreateUnencrypted("default", "log");
    }

    private string LogHome { get; }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task WitnessServe_Pkcs11Key_CosignsAndVkeyNeedsNoPin()
    {
        using var hsm = SoftHsm.ForChildProcesses("W");
        const string uri = "pkcs11:token=W;object=witness";
        var created = await ProcessRun.RunOkAsync(SignetProcess.Executable, ["key", "new", "--pkcs11", uri], hsm.Variables());
        var withoutPin = hsm.Variables();
        withoutPin[Pkcs11Module.PinEnvironmentVariable] = null;
        var vkey = (await ProcessRun.RunOkAsync(SignetProcess.Executable, ["witness", "vkey", "--key", uri, "--name", "w.test/hsm"], withoutPin)).Trim();
        Assert.Equal(PublicKey.Parse(created.Trim()), NoteVerifierKey.Parse(vkey).PublicKey);

        await CosignThroughAsync(["--key", uri], hsm.Variables(), vkey);
    }

    [Fact]
    public async Task WitnessServe_AgentKey_CosignsWithoutReadingTheKey()
    {
        var agentHome = _dir.File("agent-home");
        KeyStore.ForHome(agentHome).CreateUnencrypted("witness", "w");
        var socket = _dir.File("agent.sock");
        await using var agent = await AgentProcess.StartAsync(["--home", agentHome, "--key", "witness", "--socket", socket], new Dictionary<string, string?>());
        // The agent of the log, if any, is never the witness's: SIGNET_AGENT_SOCK is not read by witness commands.
        var env = new Dictionary<string, string?> { ["SIGNET_AGENT_SOCK"] = _dir.File("no-such.sock") };
        var vkey = (await ProcessRun.RunOkAsync(SignetProcess.Executable, ["witness", "vkey", "--agent", socket, "--name", "w.test/agent", "--home", _dir.File("empty")], env)).Trim();
        Assert.Equal(KeyStore.ForHome(agentHome).Describe("witness").PublicKey, NoteVerifierKey.Parse(vkey).PublicKey);

        // The witness's home holds no key at all: the agent signs the cosignatures.
        await CosignThroughAsync(["--agent", socket, "--home", _dir.File("witness-home")], env, vkey);
    }

    [Fact]
    public async Task WitnessServe_KeyAndAgentBoth_UsageError()
    {
        var result = await ProcessRun.RunAsync(SignetProcess.Executable,
            ["witness", "serve", "--key", "witness", "--agent", _dir.File("a.sock"), "--log", LogVerifierKey(), "--home", _dir.File("h")], new Dictionary<string, string?>());

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--key and --agent", result.Error, StringComparison.Ordinal);
    }

    private string LogVerifierKey() =>
        NoteVerifierKey.ForSignatures(AuditCheckpoints.DefaultOrigin(KeyStore.ForHome(LogHome).Describe("default").PublicKey),
            KeyStore.ForHome(LogHome).Describe("default").PublicKey).ToString();

    /// <summary>Starts <c>witness serve</c> with the key options given, publishes the log's checkpoint to it, and checks the cosignature.</summary>
    private async Task CosignThroughAsync(string[] keyArgs, Dictionary<string, string?> env, string vkey)
    {
        var name = NoteVerifierKey.Parse(vkey).Name;
        await using var witness = SignetProcess.Start(
            ["witness", "serve", .. keyArgs, "--name", name, "--listen", "127.0.0.1:0", "--log", LogVerifierKey(), "--state", _dir.File("state-" + name.Replace('/', '-'))], env);
        Assert.Equal(vkey, (await witness.ReadLineAsync()).Trim());
        var url = (await witness.ReadLineAsync()).Trim();

        for (var i = 0; i < 2; i++)
        {
            var signed = await CliRunner.RunAsync(["sign", "--home", LogHome, "--tool", $"t{i}", "--params", new JsonObject { ["n"] = i }.ToJsonString(), "--target", "mcp://test"],
                env: new Dictionary<string, string?>());
            Assert.True(signed.ExitCode == 0, signed.Error);
        }
        var published = await CliRunner.RunAsync(["log", "checkpoint", "--home", LogHome, "--witness", $"{url}={vkey}"], env: new Dictionary<string, string?>());
        Assert.True(published.ExitCode == 0, published.Error + witness.Error);

        var verified = await CliRunner.RunAsync(
            ["log", "verify", "--home", LogHome, "--checkpoint", Path.Combine(LogHome, "audit", "checkpoint"), "--witness-key", vkey, "--witnesses", "1"],
            env: new Dictionary<string, string?>());
        Assert.True(verified.ExitCode == 0, verified.Out + verified.Error);
    }
}
