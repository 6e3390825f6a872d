using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Cli.Tests.Commands;

/// <summary><c>log checkpoint | prove | publish</c>, <c>verify --proof</c> and <c>log verify --checkpoint</c> in process: what they print, and every refusal.</summary>
public sealed class LogTransparencyCommandsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public LogTransparencyCommandsTests()
    {
        KeyStore.ForHome(Home).CreateUnencrypted("default", "tests");
        KeyStore.ForHome(Home).CreateUnencrypted("other", "tests");
    }

    private string Home => _dir.File("home");

    private string Audit => Path.Combine(Home, "audit");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Checkpoint_PrintsASignedCheckpointOfTheLog_AndTheVerifierKeyThatChecksIt()
    {
        await SignAsync(5);

        var printed = await Cli("log", "checkpoint", "--home", Home);
        var vkey = (await Cli("log", "checkpoint", "--verifier-key", "--home", Home)).Out.Trim();

        Assert.Equal(0, printed.ExitCode);
        var checkpoint = SignedCheckpoint.Parse(printed.Out);
        Assert.Equal(5, checkpoint.Checkpoint.Size);
        checkpoint.Verify(NoteVerifierKey.Parse(vkey));
        Assert.StartsWith("signet.local/", checkpoint.Checkpoint.Origin, StringComparison.Ordinal);
        Assert.Equal(printed.Out, File.ReadAllText(Path.Combine(Audit, "checkpoint")));
        // Signing again without new records gives the same checkpoint, not a second one.
        Assert.Equal(printed.Out, (await Cli("log", "checkpoint", "--home", Home)).Out);
        Assert.Equal(["5"], Directory.GetFiles(Path.Combine(Audit, "checkpoints")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Prove_ThenVerifyProof_AndEachWayAProofCanBeWrong()
    {
        await SignAsync(6);
        await Cli("log", "checkpoint", "--home", Home);
        var vkey = (await Cli("log", "checkpoint", "--verifier-key", "--home", Home)).Out.Trim();
        var agent = KeyStore.ForHome(Home).Describe("default").PublicKey.Text;
        var proofFile = _dir.File("p.tlog-proof");

        Assert.Equal(0, (await Cli("log", "prove", "--index", "3", "--home", Home, "--out", proofFile)).ExitCode);
        var ok = await Cli("verify", "--proof", proofFile, "--log-key", vkey, "--pubkey", agent);
        Assert.True(ok.ExitCode == 0, ok.Out);
        Assert.Contains("is record 3 of", ok.Out, StringComparison.Ordinal);

        var proof = TlogProof.Parse(File.ReadAllText(proofFile));
        // Another index for the same record and proof.
        var moved = new TlogProof(2, proof.InclusionProof, proof.Checkpoint, proof.Extra);
        Assert.Contains("does not verify", await FailingProof(moved.ToString(), vkey), StringComparison.Ordinal);
        // A proof hash short.
        var truncated = new TlogProof(3, proof.InclusionProof.Take(proof.InclusionProof.Count - 1), proof.Checkpoint, proof.Extra);
        Assert.Contains("inclusion proof", await FailingProof(truncated.ToString(), vkey), StringComparison.Ordinal);
        // The record changed (its record_hash no longer matches it).
        var line = System.Text.Encoding.UTF8.GetString(proof.Extra!);
        var edited = new TlogProof(3, proof.InclusionProof, proof.Checkpoint, System.Text.Encoding.UTF8.GetBytes(line.Replace("\"tool\":\"t3\"", "\"tool\":\"t9\"", StringComparison.Ordinal)));
        Assert.Contains("the record was altered", await FailingProof(edited.ToString(), vkey), StringComparison.Ordinal);
        // Checked against another log's key.
        var otherKey = KeyStore.ForHome(Home).Describe("other").PublicKey;
        var otherVkey = NoteVerifierKey.ForSignatures(proof.Checkpoint.Checkpoint.Origin, otherKey).ToString();
        Assert.Contains("no signature by log key", await FailingProof(proof.ToString(), otherVkey), StringComparison.Ordinal);
        // Without a log key it is a usage error.
        Assert.Equal(2, (await Cli("verify", "--proof", proofFile)).ExitCode);
    }

    [Fact]
    public async Task Prove_Refusals_SayWhatToDo()
    {
        await SignAsync(2);
        var none = await Cli("log", "prove", "--index", "0", "--home", Home);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("sign one with 'signet log checkpoint'", none.Error, StringComparison.Ordinal);

        await Cli("log", "checkpoint", "--home", Home);
        await SignAsync(1);
        var after = await Cli("log", "prove", "--index", "2", "--home", Home);
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("not covered by the latest checkpoint (size 2)", after.Error, StringComparison.Ordinal);

        var unknown = await Cli("log", "prove", "rec_nope", "--home", Home);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no receipt with id rec_nope", unknown.Error, StringComparison.Ordinal);

        Assert.Equal(2, (await Cli("log", "prove", "--home", Home)).ExitCode);
    }

    [Fact]
    public async Task ProveFrom_PrintsAConsistencyProofThatVerifies()
    {
        await SignAsync(3);
        await Cli("log", "checkpoint", "--home", Home);
        var three = SignedCheckpoint.Parse(File.ReadAllText(Path.Combine(Audit, "checkpoint")));
        await SignAsync(4);
        await Cli("log", "checkpoint", "--home", Home);

        var printed = await Cli("log", "prove", "--from", "3", "--home", Home);

        Assert.Equal(0, printed.ExitCode);
        var body = AddCheckpointRequest.Parse(printed.Out);
        Assert.Equal((3L, 7L), (body.OldSize, body.Checkpoint.Checkpoint.Size));
        MerkleTree.VerifyConsistency(3, 7, three.Checkpoint.RootHash, body.Checkpoint.Checkpoint.RootHash, body.ConsistencyProof);
        Assert.Equal(2, (await Cli("log", "prove", "--from", "9", "--home", Home)).ExitCode);
        Assert.Equal(1, (await Cli("log", "prove", "--from", "1", "--to", "5", "--home", Home)).ExitCode);
    }

    [Fact]
    public async Task VerifyCheckpoint_SignedByAnotherKey_Fails()
    {
        await SignAsync(3);
        await Cli("log", "checkpoint", "--home", Home);
        var otherVkey = (await Cli("log", "checkpoint", "--verifier-key", "--key", "other", "--home", Home)).Out.Trim();
        // The same origin, so that only the key differs.
        var origin = SignedCheckpoint.Parse(File.ReadAllText(Path.Combine(Audit, "checkpoint"))).Checkpoint.Origin;
        var impostor = NoteVerifierKey.ForSignatures(origin, NoteVerifierKey.Parse(otherVkey).PublicKey).ToString();

        var result = await Cli("log", "verify", "--home", Home, "--checkpoint", Path.Combine(Audit, "checkpoint"), "--log-key", impostor);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("INVALID", result.Out, StringComparison.Ordinal);
        // With the right key (found in the home), it is consistent.
        var good = await Cli("log", "verify", "--home", Home, "--checkpoint", Path.Combine(Audit, "checkpoint"));
        Assert.True(good.ExitCode == 0, good.Out);
        Assert.Contains("CONSISTENT", good.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyCheckpoint_TruncatedLog_SaysHowManyRecordsAreGone()
    {
        await SignAsync(5);
        var kept = _dir.File("kept");
        await Cli("log", "checkpoint", "--home", Home, "--save", kept);
        var file = Directory.GetFiles(Audit, "*.jsonl").Single();
        File.WriteAllLines(file, File.ReadAllLines(file).Take(3));

        var result = await Cli("log", "verify", "--home", Home, "--checkpoint", Path.Combine(kept, "checkpoint"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("the log has 3 records but the checkpoint covers 5: records 3 to 4 are gone", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointSave_KeepsThePartialTileOfItsSize_SoALaterRewriteIsNamedAfterTheLogGrew()
    {
        await SignAsync(5);
        var kept = _dir.File("kept");
        var saved = await Cli("log", "checkpoint", "--home", Home, "--save", kept);
        Assert.True(saved.ExitCode == 0, saved.Error);
        // C2SP tlog-tiles: the level-0 tile of a 5-leaf tree is the partial tile 000.p/5.
        Assert.True(File.Exists(Path.Combine(kept, "tile", "0", "000.p", "5")), "no partial tile of size 5 in the saved copy");
        Assert.True(File.Exists(Path.Combine(kept, "checkpoint")));

        // The log grows past the checkpoint (its own tiles move on to size 8), then record 2 is rewritten in place.
        await SignAsync(3);
        var file = Directory.GetFiles(Audit, "*.jsonl").Single();
        var lines = File.ReadAllLines(file);
        Assert.Contains("\"tool\":\"t2\"", lines[2], StringComparison.Ordinal);
        lines[2] = lines[2].Replace("\"tool\":\"t2\"", "\"tool\":\"t9\"", StringComparison.Ordinal);
        File.WriteAllLines(file, lines);

        var result = await Cli("log", "verify", "--home", Home, "--checkpoint", Path.Combine(kept, "checkpoint"), "--tiles", kept);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("record 2 (", result.Out, StringComparison.Ordinal);
        Assert.Contains("is not the record the checkpoint holds at 2", result.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://w.example/=not-a-key")]
    [InlineData("w.example=w.test/witness+00000000+BAAA")]
    [InlineData("no-equals-sign")]
    public async Task Witness_Malformed_IsAUsageError(string witness)
    {
        var result = await Cli("log", "checkpoint", "--home", Home, "--witness", witness);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--witness", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WitnessServe_Refusals()
    {
        var noLog = await Cli("witness", "serve", "--home", Home);
        Assert.Equal(2, noLog.ExitCode);
        Assert.Contains("--log VKEY", noLog.Error, StringComparison.Ordinal);

        var vkey = (await Cli("log", "checkpoint", "--verifier-key", "--home", Home)).Out.Trim();
        var sameKey = await Cli("witness", "serve", "--home", Home, "--key", "default", "--log", vkey);
        Assert.Equal(2, sameKey.ExitCode);
        Assert.Contains("a witness must hold a key of its own", sameKey.Error, StringComparison.Ordinal);

        var noKey = await Cli("witness", "serve", "--home", Home, "--log", vkey);
        Assert.Equal(1, noKey.ExitCode);
        Assert.Contains("signet key new witness", noKey.Error, StringComparison.Ordinal);
    }

    private async Task<string> FailingProof(string proof, string vkey)
    {
        var file = _dir.File(Guid.NewGuid().ToString("N") + ".tlog-proof");
        File.WriteAllText(file, proof);
        var result = await Cli("verify", "--proof", file, "--log-key", vkey);
        Assert.Equal(1, result.ExitCode);
        return result.Out + result.Error;
    }

    private async Task SignAsync(int count)
    {
        var start = Directory.Exists(Audit) ? AuditQuery.Read(Audit).Count() : 0;
        for (var i = start; i < start + count; i++)
        {
            var result = await Cli("sign", "--home", Home, "--tool", $"t{i}", "--params", new JsonObject { ["n"] = i }.ToJsonString(), "--target", "mcp://test");
            Assert.True(result.ExitCode == 0, result.Error);
        }
    }

    private static Task<CliRunner.Result> Cli(params string[] args) => CliRunner.RunAsync(args, env: new Dictionary<string, string?>());
}
