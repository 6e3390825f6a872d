using System.Net.Sockets;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Cli.Tests.Commands;
using Signet.Core.Tests.Keys;
using Signet.Keys;

namespace Signet.Cli.Tests.Agent;

/// <summary><c>signet agent</c> as a real process on a real socket, and the commands that sign through it.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class AgentCommandTests : IDisposable
{
    private const string Passphrase = "agent-passphrase-7f3e1c";

    private readonly TempDir _dir = new();

    public AgentCommandTests()
    {
        Home = _dir.File("home");
        PublicKey = KeyStore.ForHome(Home).CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase), owner: "ops").PublicKey;
        Socket = _dir.File("run/agent.sock");
    }

    private string Home { get; }

    private PublicKey PublicKey { get; }

    private string Socket { get; }

    private string LogFile => _dir.File("agent.log");

    public void Dispose() => _dir.Dispose();

    private Task<AgentProcess> StartAgentAsync(params string[] extra) =>
        AgentProcess.StartAsync(["--home", Home, "--key", "agent", "--socket", Socket, "--log", LogFile, .. extra],
            new Dictionary<string, string?> { [PassphraseSource.EnvironmentVariable] = Passphrase });

    [Fact]
    public async Task Agent_Started_PrintsTheSocketLineMakesTheSocket0600InA0700FolderAndHasNoCoreLimit()
    {
        await using var agent = await StartAgentAsync();

        Assert.Equal($"SIGNET_AGENT_SOCK={Socket}; export SIGNET_AGENT_SOCK;", agent.Line);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Socket));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(Socket)!));
        // No core file of the process that holds the key (RLIMIT_CORE 0, set before the key was read).
        Assert.Matches(@"Max core file size\s+0\s+0\s", File.ReadAllText($"/proc/{agent.Process.Id}/limits"));
    }

    [Fact]
    public async Task Agent_Sigterm_ExitsZeroAndRemovesItsSocket()
    {
        await using var agent = await StartAgentAsync();

        Assert.Equal(0, await agent.TerminateAsync());

        Assert.False(File.Exists(Socket));
        Assert.Contains("\"event\":\"stop\"", agent.Process.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_WithAgent_ReceiptVerifiesCarriesTheAgentsKeyAndTheAgentLogsIt()
    {
        await using var agent = await StartAgentAsync();

        var result = await CliRunner.RunAsync(["sign", "--home", _dir.File("client"), "--agent", Socket, "--tool", "deploy", "--params", "{\"env\":\"prod\"}"]);

        Assert.True(result.ExitCode == 0, result.Error);
        var receipt = JsonNode.Parse(result.Out)!;
        Assert.Equal(PublicKey.Text, (string?)receipt["signer"]!["pubkey"]);
        Assert.Equal(("agent", "ops"), ((string?)receipt["signer"]!["name"], (string?)receipt["signer"]!["owner"]));
        var verify = await CliRunner.RunAsync(["log", "verify", "--home", _dir.File("client"), "--pubkey", PublicKey.Text]);
        Assert.True(verify.ExitCode == 0, verify.Out + verify.Error);
        var logged = File.ReadAllLines(LogFile).Select(l => JsonNode.Parse(l)!).Single(l => (string?)l["event"] == "sign");
        Assert.Equal("receipt-v1", (string?)logged["kind"]);
        Assert.Equal((string?)receipt["id"], (string?)logged["receipt_id"]);
        Assert.Equal("deploy", (string?)logged["tool"]);
        Assert.Equal(System.Environment.ProcessId, (int)logged["pid"]!);
        Assert.DoesNotContain(Passphrase, File.ReadAllText(LogFile), StringComparison.Ordinal);
        Assert.DoesNotContain(Passphrase, agent.Process.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_AgentFromEnvironment_UsedWithoutAnyKeyHere()
    {
        await using var agent = await StartAgentAsync();

        var result = await CliRunner.RunAsync(["sign", "--home", _dir.File("client"), "--tool", "t", "--no-log"],
            env: new Dictionary<string, string?> { ["SIGNET_AGENT_SOCK"] = Socket, ["SIGNET_KEY"] = "missing" });

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(PublicKey.Text, (string?)JsonNode.Parse(result.Out)!["signer"]!["pubkey"]);
    }

    [Fact]
    public async Task LogCheckpointVerifierKey_WithAgent_TheAgentsKey()
    {
        await using var agent = await StartAgentAsync();

        var result = await CliRunner.RunAsync(["log", "checkpoint", "--verifier-key", "--home", _dir.File("client"), "--agent", Socket, "--log-origin", "example.com/log"]);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(Transparency.NoteVerifierKey.ForSignatures("example.com/log", PublicKey).ToString(), result.Out.Trim());
    }

    [Fact]
    public async Task Sign_ExplicitKeyThatIsNotTheAgents_UsageError()
    {
        await using var agent = await StartAgentAsync();

        var result = await CliRunner.RunAsync(["sign", "--home", Home, "--agent", Socket, "--key", "other", "--tool", "t", "--no-log"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--key other, but the signer agent", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentSigner_ArbitraryBytes_RefusedAndLogged()
    {
        await using var agent = await StartAgentAsync();
        using var signer = AgentSigner.Connect(Socket);

        var error = Assert.Throws<SignetException>(() => signer.Sign("transfer 1000 coins"u8));

        Assert.Contains("refused to sign: not a Signet signable", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"event\":\"refuse\"", File.ReadAllText(LogFile), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentSigner_CheckpointAndCosignature_SignedAndLoggedWithTheirKind()
    {
        await using var agent = await StartAgentAsync();
        using var signer = AgentSigner.Connect(Socket);
        var checkpoint = new Transparency.Checkpoint("example.com/log", 3, new byte[32]).ToText();

        var note = new Transparency.NoteSigner("example.com/log", signer).Sign(checkpoint);
        var cosignature = Transparency.Cosignature.Sign("witness.example", signer, checkpoint, DateTimeOffset.UnixEpoch.AddDays(1));

        Assert.True(PublicKey.Verify(System.Text.Encoding.UTF8.GetBytes(checkpoint), note.SignatureSpan));
        Assert.True(Transparency.Cosignature.Verify(Transparency.NoteVerifierKey.ForCosignatures("witness.example", PublicKey), checkpoint, cosignature, out _));
        var kinds = File.ReadAllLines(LogFile).Select(l => JsonNode.Parse(l)!).Where(l => (string?)l["event"] == "sign").Select(l => (string?)l["kind"]);
        Assert.Equal(["checkpoint", "cosignature"], kinds);
    }

    [Fact]
    public async Task LockUnlock_LockedRefusesNamingUnlock_WrongPassphraseRefused_RightOneSignsAgain()
    {
        await using var agent = await StartAgentAsync();
        string[] sign = ["sign", "--home", _dir.File("client"), "--agent", Socket, "--tool", "t", "--no-log"];

        Assert.Equal(0, (await CliRunner.RunAsync(["agent", "lock", "--socket", Socket])).ExitCode);
        var locked = await CliRunner.RunAsync(sign);
        var status = await CliRunner.RunAsync(["agent", "status", "--socket", Socket, "--json"]);
        var wrong = await CliRunner.RunAsync(["agent", "unlock", "--socket", Socket], env: new Dictionary<string, string?> { ["SIGNET_PASSPHRASE"] = "wrong" });
        var passphraseFile = _dir.File("passphrase");
        File.WriteAllText(passphraseFile, Passphrase + "\n");
        var unlocked = await CliRunner.RunAsync(["agent", "unlock", "--socket", Socket, "--passphrase-file", passphraseFile]);
        var signed = await CliRunner.RunAsync(sign);

        Assert.Equal(1, locked.ExitCode);
        Assert.Contains("the agent is locked: unlock it with signet agent unlock", locked.Error, StringComparison.Ordinal);
        Assert.True((bool)JsonNode.Parse(status.Out)!["locked"]!);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("wrong passphrase", wrong.Error, StringComparison.Ordinal);
        Assert.True(unlocked.ExitCode == 0, unlocked.Error);
        Assert.True(signed.ExitCode == 0, signed.Error);
        var events = File.ReadAllLines(LogFile).Select(l => (string?)JsonNode.Parse(l)!["event"]);
        Assert.Equal(["start", "lock", "unlock-failed", "unlock", "sign"], events);
        Assert.DoesNotContain(Passphrase, File.ReadAllText(LogFile), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Protocol_OtherVersionUnknownOpAndOversizedFrame_EachAnsweredWithAnError()
    {
        await using var agent = await StartAgentAsync();
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(Socket));

        JsonNode Ask(byte[] frame)
        {
            AgentProtocol.Write(client, frame);
            return JsonNode.Parse(AgentProtocol.Read(client)!)!;
        }
        var info = Ask(AgentProtocol.Request("info"));
        var otherVersion = Ask([0, 0, 0, 19, .. "{\"v\":2,\"op\":\"info\"}"u8.ToArray()]);
        var unknown = Ask(AgentProtocol.Request("export-key"));
        var oversized = Ask([0x01, 0x00, 0x00, 0x01]);

        Assert.Equal((true, PublicKey.Text, "file", "passphrase", false),
            ((bool)info["ok"]!, (string?)info["pubkey"], (string?)info["kind"], (string?)info["secret"], (bool)info["locked"]!));
        Assert.Contains("this agent speaks protocol version 1, not 2", (string?)otherVersion["message"], StringComparison.Ordinal);
        Assert.Contains("unknown op \"export-key\"", (string?)unknown["message"], StringComparison.Ordinal);
        Assert.Equal("bad-request", (string?)oversized["error"]);
        Assert.Contains("the protocol allows 2 to 16777216", (string?)oversized["message"], StringComparison.Ordinal);
        Assert.Null(AgentProtocol.Read(client)); // and the connection is closed after a framing error
    }

    [Fact]
    public async Task Status_HumanForm_NamesTheKeyStateAndCounts()
    {
        await using var agent = await StartAgentAsync();
        await CliRunner.RunAsync(["sign", "--home", _dir.File("client"), "--agent", Socket, "--tool", "t", "--no-log"]);

        var status = await CliRunner.RunAsync(["agent", "status"], env: new Dictionary<string, string?> { ["SIGNET_AGENT_SOCK"] = Socket });

        Assert.True(status.ExitCode == 0, status.Error);
        Assert.Contains($"key:        agent {PublicKey.Text}", status.Out, StringComparison.Ordinal);
        Assert.Contains("state:      unlocked", status.Out, StringComparison.Ordinal);
        Assert.Contains("signatures: 1 made, 0 refused", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_StaleSocketOfADeadAgent_Replaced()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Socket)!);
        // Bound but not listening, as the socket file of an agent that died is: connect(2) is refused. (.NET removes the
        // file when a bound socket is disposed, so it stays open for the test; it is disposed after the agent.)
        using var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        dead.Bind(new UnixDomainSocketEndPoint(Socket));

        await using var agent = await StartAgentAsync();
        using var signer = AgentSigner.Connect(Socket);

        Assert.Equal(PublicKey, signer.PublicKey);
    }

    [Fact]
    public async Task Agent_SocketOfALiveAgent_RefusedNamingItsPid()
    {
        await using var first = await StartAgentAsync();

        await using var second = SignetProcess.Start(["agent", "--home", Home, "--key", "agent", "--socket", Socket],
            new Dictionary<string, string?> { [PassphraseSource.EnvironmentVariable] = Passphrase });
        var exit = await second.WaitAsync();

        Assert.Equal(1, exit);
        Assert.Contains($"a signer agent is already listening on {Socket} (pid {first.Process.Id})", second.Error, StringComparison.Ordinal);
        using var signer = AgentSigner.Connect(Socket);
        Assert.Equal(PublicKey, signer.PublicKey);
    }

    [Fact]
    public async Task Sign_NoAgentAtTheSocket_SaysHowToStartOne()
    {
        var result = await CliRunner.RunAsync(["sign", "--home", Home, "--agent", Socket, "--tool", "t", "--no-log"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("signet agent --socket", result.Error, StringComparison.Ordinal);
    }

    [RootFact("a client of another uid")]
    public async Task Agent_PeerOfAUidNotAllowed_RefusedAndLogged()
    {
        await using var agent = await StartAgentAsync("--allow-uid", "65533");

        var (code, _, error) = await ProcessRun.SignetAsNobodyAsync(["sign", "--home", "/nonexistent", "--agent", Socket, "--tool", "t", "--no-log"],
            new Dictionary<string, string?> { ["HOME"] = "/nonexistent" });

        Assert.Equal(1, code);
        Assert.Contains("not uid 65534", error, StringComparison.Ordinal);
        Assert.Contains("--allow-uid 65534", error, StringComparison.Ordinal);
        Assert.Contains("\"event\":\"peer-refused\"", File.ReadAllText(LogFile), StringComparison.Ordinal);
    }

    [RootFact("a client of another uid")]
    public async Task Agent_PeerOfAnAllowedUid_Signs()
    {
        await using var agent = await StartAgentAsync("--allow-uid", "65534");

        var (code, output, error) = await ProcessRun.SignetAsNobodyAsync(["sign", "--home", "/nonexistent", "--agent", Socket, "--tool", "t", "--no-log"],
            new Dictionary<string, string?> { ["HOME"] = "/nonexistent" });

        Assert.True(code == 0, error);
        Assert.Equal(PublicKey.Text, (string?)JsonNode.Parse(output)!["signer"]!["pubkey"]);
        Assert.Contains("\"uid\":65534", File.ReadAllText(LogFile), StringComparison.Ordinal);
    }

    [RootFact("a client of another uid")]
    public async Task Lock_FromAnAllowedUidThatIsNotTheAgents_Refused()
    {
        await using var agent = await StartAgentAsync("--allow-uid", "65534");

        var (code, _, error) = await ProcessRun.SignetAsNobodyAsync(["agent", "lock", "--socket", Socket], new Dictionary<string, string?> { ["HOME"] = "/nonexistent" });

        Assert.Equal(1, code);
        Assert.Contains("may lock or unlock it", error, StringComparison.Ordinal);
    }
}
