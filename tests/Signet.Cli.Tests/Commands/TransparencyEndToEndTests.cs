using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Cli.Commands;
using Signet.Keys;
using Signet.Tests.Shared;
using Signet.Transparency;

namespace Signet.Cli.Tests.Commands;

/// <summary>
/// The whole transparency path with real processes: the proxy in front of server-everything writes the log and its
/// tree, signs a checkpoint on exit and has two <c>signet witness serve</c> processes cosign it; a receipt's proof
/// verifies offline with 2 of 2 witnesses; then the log is rewritten (a middle record deleted and every later hash
/// recomputed, so that the chain still verifies) and both the kept checkpoint and the witnesses catch it.
/// </summary>
public sealed class TransparencyEndToEndTests : IDisposable
{
    private readonly TempDir _dir = new();

    public TransparencyEndToEndTests()
    {
        KeyStore.ForHome(Home).CreateUnencrypted("default", "tests");
        KeyStore.ForHome(_dir.File("w1")).CreateUnencrypted(WitnessCommands.DefaultKeyName);
        KeyStore.ForHome(_dir.File("w2")).CreateUnencrypted(WitnessCommands.DefaultKeyName);
    }

    private string Home => _dir.File("home");

    private string Audit => Path.Combine(Home, "audit");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ProxyToWitnessedProof_ThenARewrittenLogIsCaughtByTheCheckpointAndBothWitnesses()
    {
        var logKey = (await Cli("log", "checkpoint", "--verifier-key", "--home", Home)).Out.Trim();
        await using var w1 = await WitnessProcess.StartAsync(_dir.File("w1"), "w1.test/witness", logKey);
        await using var w2 = await WitnessProcess.StartAsync(_dir.File("w2"), "w2.test/witness", logKey);
        string[] witnesses = ["--witness", w1.Endpoint, "--witness", w2.Endpoint];

        // Six calls through the proxy; on exit it signs a checkpoint and both witnesses cosign it.
        await RunProxyAsync(6, ["--checkpoint-interval", "1h", .. witnesses]);
        var records = AuditVerifier.Verify(Audit).RecordCount;
        var stored = SignedCheckpoint.Parse(File.ReadAllText(Path.Combine(Audit, "checkpoint")));
        Assert.Equal(records, stored.Checkpoint.Size);
        var policy = WitnessPolicy.Threshold(2, [NoteVerifierKey.Parse(w1.VerifierKey), NoteVerifierKey.Parse(w2.VerifierKey)]);
        Assert.Equal(2, stored.Verify(NoteVerifierKey.Parse(logKey), policy).Cosignatures.Count);

        // The auditor's copies: the checkpoint with its tiles, and one receipt's proof.
        var saved = _dir.File("kept");
        Assert.Equal(0, (await Cli("log", "checkpoint", "--home", Home, "--save", saved)).ExitCode);
        var middle = AuditQuery.Read(Audit).ElementAt(5);
        var receiptId = (string)middle.Receipt["id"]!;
        var proofFile = _dir.File("receipt.tlog-proof");
        var prove = await Cli("log", "prove", receiptId, "--home", Home, "--out", proofFile);
        Assert.Equal(0, prove.ExitCode);
        var verify = await Cli("verify", "--proof", proofFile, "--log-key", logKey, "--witness-key", w1.VerifierKey, "--witness-key", w2.VerifierKey);
        Assert.True(verify.ExitCode == 0, verify.Out + verify.Error);
        Assert.Contains($"receipt {receiptId}", verify.Out, StringComparison.Ordinal);
        Assert.Contains("w1.test/witness", verify.Out, StringComparison.Ordinal);
        Assert.Contains("w2.test/witness", verify.Out, StringComparison.Ordinal);
        // Without the second witness's cosignature a 2-of-2 policy is not met.
        var stripped = _dir.File("one-witness.tlog-proof");
        File.WriteAllLines(stripped, File.ReadAllLines(proofFile).Where(l => !l.StartsWith("\u2014 w2.test/", StringComparison.Ordinal)));
        Assert.Equal(1, (await Cli("verify", "--proof", stripped, "--log-key", logKey, "--witness-key", w1.VerifierKey, "--witness-key", w2.VerifierKey)).ExitCode);

        // The same proof checked by Go's golang.org/x/mod: the checkpoint's log signature and both cosignatures with
        // sumdb/note, the record's leaf hash and the inclusion proof with sumdb/tlog over the tiles kept with the checkpoint.
        var proof = TlogProof.Parse(File.ReadAllText(proofFile));
        var note = _dir.File("proof-checkpoint");
        File.WriteAllText(note, proof.Checkpoint.ToString());
        AssertGo(GoDriver.Run("notecheck", ["verify", logKey, note]));
        AssertGo(GoDriver.Run("notecheck", ["verify-cosignature", w1.VerifierKey, note]));
        AssertGo(GoDriver.Run("notecheck", ["verify-cosignature", w2.VerifierKey, note]));
        var hashes = string.Join(',', proof.InclusionProof.Select(Convert.ToHexStringLower));
        AssertGo(GoDriver.Run("tlogcheck", [saved, proof.Checkpoint.Checkpoint.Size.ToString(CultureInfo.InvariantCulture), Convert.ToHexStringLower(proof.Checkpoint.Checkpoint.RootHash)],
            $"entry {proof.Index} {Convert.ToHexStringLower(proof.Extra!)}\nrecord {proof.Index} {hashes}\n"));

        // An evidence bundle carries the cosigned checkpoint and is checked against both witnesses.
        Assert.Equal(0, (await Cli("log", "export", "--home", Home, "--out", _dir.File("bundle"))).ExitCode);
        var bundle = await Cli("log", "verify", "--bundle", _dir.File("bundle"), "--log-key", logKey, "--witness-key", w1.VerifierKey, "--witness-key", w2.VerifierKey);
        Assert.True(bundle.ExitCode == 0, bundle.Out);
        Assert.Contains("cosigned by w1.test/witness, w2.test/witness", bundle.Out, StringComparison.Ordinal);

        // The rewrite: record 5 deleted, every later hash recomputed, the derived files removed. The chain verifies.
        DeleteRecordAndRecomputeChain(5);
        Assert.Equal(0, (await Cli("log", "verify", "--home", Home)).ExitCode);

        // The kept checkpoint catches it and names the record.
        var check = await Cli("log", "verify", "--home", Home, "--checkpoint", Path.Combine(saved, "checkpoint"), "--log-key", logKey);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("INCONSISTENT", check.Out, StringComparison.Ordinal);
        Assert.True(check.Out.Contains("record 5 (", StringComparison.Ordinal), check.Out);
        Assert.Contains($"{Path.GetFileName(middle.File)} line {middle.Line}", check.Out, StringComparison.Ordinal);

        // The log goes on and publishes: both witnesses refuse the rewritten history and keep its signed checkpoint.
        await RunProxyAsync(2, ["--checkpoint-interval", "0"]);
        var publish = await Cli(["log", "checkpoint", "--home", Home, .. witnesses]);
        Assert.Equal(1, publish.ExitCode);
        Assert.Contains("w1.test/witness: NOT cosigned", publish.Error, StringComparison.Ordinal);
        Assert.Contains("w2.test/witness: NOT cosigned", publish.Error, StringComparison.Ordinal);
        foreach (var witnessHome in new[] { _dir.File("w1"), _dir.File("w2") })
        {
            var refused = Path.Combine(witnessHome, "witness", "logs", Witness.OriginHash(stored.Checkpoint.Origin), "refused");
            Assert.Contains(Directory.GetFiles(refused), f => Path.GetFileName(f).Contains("-fork-", StringComparison.Ordinal));
        }
        // A bundle of the rewritten log carries a checkpoint no witness cosigned.
        Assert.Equal(0, (await Cli("log", "export", "--home", Home, "--out", _dir.File("bundle2"))).ExitCode);
        var rewritten = await Cli("log", "verify", "--bundle", _dir.File("bundle2"), "--log-key", logKey, "--witness-key", w1.VerifierKey, "--witness-key", w2.VerifierKey);
        Assert.Equal(1, rewritten.ExitCode);
        Assert.Contains("witness policy needs", rewritten.Out, StringComparison.Ordinal);

        // The proof made before the rewrite still verifies offline: the evidence outlives the log.
        Assert.Equal(0, (await Cli("verify", "--proof", proofFile, "--log-key", logKey, "--witness-key", w1.VerifierKey, "--witness-key", w2.VerifierKey)).ExitCode);
    }

    private static void AssertGo((int ExitCode, string Stdout, string Stderr) run) =>
        Assert.True(run.ExitCode == 0, $"Go refused ({run.ExitCode}): {run.Stdout}{run.Stderr}");

    private Task<CliRunner.Result> Cli(params string[] args) => CliRunner.RunAsync(args, env: new Dictionary<string, string?>(), time: TimeProvider.System);

    /// <summary>Runs the proxy in front of server-everything for <paramref name="calls"/> echo calls, until it exits.</summary>
    private async Task RunProxyAsync(int calls, string[] options)
    {
        await using var proxy = SignetProcess.Start(
            ["proxy", "--home", Home, .. options, "--", "node", InteropPeers.Server("server-everything"), "stdio"], new Dictionary<string, string?>());
        await proxy.SendAsync("""{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}""" + "\n");
        Assert.NotNull(JsonNode.Parse(await proxy.ReadLineAsync())!["result"]);
        await proxy.SendAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""" + "\n");
        for (var i = 1; i <= calls; i++)
        {
            var call = new JsonObject
            {
                ["jsonrpc"] = "2.0",
                ["id"] = i,
                ["method"] = "tools/call",
                ["params"] = new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["message"] = $"call {i}" } },
            };
            await proxy.SendAsync(call.ToJsonString() + "\n");
            var answer = JsonNode.Parse(await ReadResponseAsync(proxy, i))!;
            Assert.Contains($"call {i}", answer["result"]!.ToJsonString(), StringComparison.Ordinal);
        }
        Assert.Equal(0, await proxy.CloseInputAndWaitAsync());
    }

    /// <summary>The response with this id (server-everything also sends notifications).</summary>
    private static async Task<string> ReadResponseAsync(SignetProcess proxy, int id)
    {
        while (true)
        {
            var line = await proxy.ReadLineAsync();
            if (JsonNode.Parse(line)?["id"] is JsonValue value && (int)value == id)
            {
                return line;
            }
        }
    }

    /// <summary>What someone with write access to the log would do: remove a record, recompute the chain after it, delete what is derived.</summary>
    private void DeleteRecordAndRecomputeChain(int index)
    {
        var files = Directory.GetFiles(Audit, "*.jsonl").Order(StringComparer.Ordinal).ToList();
        var position = 0;
        var prev = (string?)null;
        foreach (var file in files)
        {
            var output = new ArrayBufferWriter<byte>();
            foreach (var line in File.ReadAllLines(file).Where(l => l.Length > 0))
            {
                var record = AuditRecordFormat.TryParse(Encoding.UTF8.GetBytes(line), out var error, out _) ?? throw new InvalidOperationException(error);
                if (position++ == index)
                {
                    prev ??= record.PrevHash;
                    continue;
                }
                var from = prev ?? record.PrevHash;
                var hash = AuditRecordFormat.RecordHash(from, record.Receipt);
                // The line as it was, with only its two hashes replaced: the records before the deleted one stay byte for byte.
                output.Write(Encoding.UTF8.GetBytes(line.Replace(record.PrevHash, from, StringComparison.Ordinal).Replace(record.RecordHash, hash, StringComparison.Ordinal) + "\n"));
                prev = hash;
            }
            File.WriteAllBytes(file, output.WrittenSpan.ToArray());
        }
        foreach (var derived in new[] { "tile", "checkpoints" })
        {
            if (Directory.Exists(Path.Combine(Audit, derived)))
            {
                Directory.Delete(Path.Combine(Audit, derived), recursive: true);
            }
        }
        foreach (var file in Directory.GetFiles(Audit).Where(f => !f.EndsWith(".jsonl", StringComparison.Ordinal) && !f.EndsWith(".lock", StringComparison.Ordinal)))
        {
            File.Delete(file);
        }
    }

    /// <summary>A <c>signet witness serve</c> process on a free loopback port.</summary>
    private sealed class WitnessProcess : IAsyncDisposable
    {
        private readonly SignetProcess _process;

        private WitnessProcess(SignetProcess process, string verifierKey, string url)
        {
            _process = process;
            VerifierKey = verifierKey;
            Url = url;
        }

        public string VerifierKey { get; }

        public string Url { get; }

        /// <summary>The <c>--witness</c> value.</summary>
        public string Endpoint => $"{Url}={VerifierKey}";

        public static async Task<WitnessProcess> StartAsync(string home, string name, string logKey)
        {
            var process = SignetProcess.Start(["witness", "serve", "--home", home, "--name", name, "--listen", "127.0.0.1:0", "--log", logKey],
                new Dictionary<string, string?>());
            // stdout: the verifier key, then the address it listens at (written once it listens).
            var vkey = (await process.ReadLineAsync()).Trim();
            var url = (await process.ReadLineAsync()).Trim();
            Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);
            return new WitnessProcess(process, vkey, url);
        }

        public ValueTask DisposeAsync() => _process.DisposeAsync();
    }
}
