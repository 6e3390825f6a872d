using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Signet.Audit;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Cli.Tests.Commands;

public sealed class LogCommandsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task LogVerify_IntactLog_ExitsZeroWithCountAndTip()
    {
        using var home = new TempDir();
        var results = await WriteLog(home.Path);
        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("chain intact: 3 records in 1 files", result.Out, StringComparison.Ordinal);
        Assert.Contains($"tip: {results[^1].RecordHash}", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogVerify_EditedRecord_ExitsOneNamingFileLineAndKind()
    {
        using var home = new TempDir();
        var results = await WriteLog(home.Path);
        var file = results[1].File;
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"tool\":\"read_file\"", "\"tool\":\"rm_rf\"", StringComparison.Ordinal));

        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"chain BROKEN at {Path.GetFileName(file)} line 2: edited record", result.Out, StringComparison.Ordinal);
        Assert.Contains($"actual:   {results[1].RecordHash}", result.Out, StringComparison.Ordinal);

        var json = await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--json"]);
        var report = JsonNode.Parse(json.Out)!;
        Assert.False((bool)report["intact"]!);
        Assert.Equal("edited", (string?)report["break"]!["kind"]);
        Assert.Equal(2, (int)report["break"]!["line"]!);
    }

    [Fact]
    public async Task LogVerify_SignaturesWithWrongTrustedKey_ExitsOne()
    {
        using var home = new TempDir();
        await WriteLog(home.Path);
        using var other = SigningKey.Generate();
        var ok = await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--signatures"]);
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("signatures: 3 of 3 valid", ok.Out, StringComparison.Ordinal);
        var bad = await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--signatures", "--pubkey", other.PublicKey.Text]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("signatures: 0 of 3 valid", bad.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogVerify_ExpectTipAfterTailRemoved_ExitsOneTruncated()
    {
        using var home = new TempDir();
        var results = await WriteLog(home.Path);
        var file = results[^1].File;
        var lines = File.ReadAllLines(file);
        File.WriteAllLines(file, lines[..^1]);
        Assert.Equal(0, (await CliRunner.RunAsync(["log", "verify", "--home", home.Path])).ExitCode);
        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--expect-tip", results[^1].RecordHash]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("truncated log", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogVerify_NoLog_ExitsOneNamingTheDirectory()
    {
        using var home = new TempDir();
        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(Path.Combine(home.Path, "audit"), result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogShow_FiltersByToolAndSince()
    {
        using var home = new TempDir();
        await WriteLog(home.Path);
        var all = await CliRunner.RunAsync(["log", "show", "--home", home.Path], time: Fixed());
        Assert.Equal(0, all.ExitCode);
        Assert.Equal(1 + 3, all.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // the header and a row per call

        var tool = await CliRunner.RunAsync(["log", "show", "--home", home.Path, "--tool", "read_file", "--json"], time: Fixed());
        var line = Assert.Single(tool.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var record = JsonNode.Parse(line)!;
        Assert.Equal("read_file", (string?)record["receipt"]!["action"]!["tool"]);
        Assert.Equal(2, (int)record["line"]!);

        // Receipts are stamped 2026-11-26T11:00, 11:30 and 11:50; "now" is 12:00.
        var recent = await CliRunner.RunAsync(["log", "show", "--home", home.Path, "--since", "20m"], time: Fixed());
        Assert.Equal(2, recent.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("write_file", recent.Out, StringComparison.Ordinal);
        var usage = await CliRunner.RunAsync(["log", "show", "--home", home.Path, "--since", "yesterday"], time: Fixed());
        Assert.Equal(2, usage.ExitCode);
    }

    [Fact]
    public async Task LogVerifyBundle_ExportedBundle_ValidThenTamperedInvalid()
    {
        using var home = new TempDir();
        await WriteLog(home.Path);
        using var key = SigningKey.Generate();
        var bundle = Path.Combine(home.Path, "bundle");
        AuditBundle.Export(Path.Combine(home.Path, "audit"), bundle, key);

        var ok = await CliRunner.RunAsync(["log", "verify", "--bundle", bundle, "--pubkey", key.PublicKey.Text]);
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("bundle valid: 3 records", ok.Out, StringComparison.Ordinal);

        var manifest = Path.Combine(bundle, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"record_count\": 3", "\"record_count\": 2", StringComparison.Ordinal));
        var bad = await CliRunner.RunAsync(["log", "verify", "--bundle", bundle, "--pubkey", key.PublicKey.Text]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("manifest signature does not verify", bad.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogExport_WithEncryptedKey_WritesBundleThatVerifiesOffline()
    {
        using var home = new TempDir();
        await WriteLog(home.Path);
        var env = new Dictionary<string, string?> { ["SIGNET_PASSPHRASE"] = "correct horse", ["SIGNET_KEY"] = "auditor" };
        var created = await CliRunner.RunAsync(["key", "new", "auditor", "--home", home.Path], env: env);
        Assert.Equal(0, created.ExitCode);
        var pubkey = System.Text.RegularExpressions.Regex.Match(created.Out, "ed25519:[A-Za-z0-9+/=]{44}").Value;

        var bundle = Path.Combine(home.Path, "evidence");
        var export = await CliRunner.RunAsync(["log", "export", "--home", home.Path, "--out", bundle], env: env);
        Assert.Equal(0, export.ExitCode);
        Assert.Contains("3 records", export.Out, StringComparison.Ordinal);
        Assert.Contains($"manifest signed by:    {pubkey}", export.Out, StringComparison.Ordinal);

        var verify = await CliRunner.RunAsync(["log", "verify", "--bundle", bundle, "--pubkey", pubkey]);
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("(trusted)", verify.Out, StringComparison.Ordinal);

        var wrong = await CliRunner.RunAsync(["log", "export", "--home", home.Path, "--out", Path.Combine(home.Path, "e2"), "--key", "auditor"],
            env: new Dictionary<string, string?> { ["SIGNET_PASSPHRASE"] = "wrong" });
        Assert.Equal(1, wrong.ExitCode);
        Assert.False(File.Exists(Path.Combine(home.Path, "e2", "manifest.json")));
    }

    [Fact]
    public async Task LogVerify_PubkeyOfAnotherSignerWithoutSignaturesFlag_ExitsOne()
    {
        using var home = new TempDir();
        await WriteLog(home.Path);
        using var other = SigningKey.Generate();

        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--pubkey", other.PublicKey.Text]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("signatures: 0 of 3 valid (checked against the trusted keys)", result.Out, StringComparison.Ordinal);
        Assert.Contains("is not one of the trusted keys", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("proves:", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogVerify_PubkeyOfTheSigner_ExitsZeroSayingEveryReceiptIsSignedByATrustedKey()
    {
        using var home = new TempDir();
        using var key = SigningKey.Generate();
        await WriteLog(home.Path, key);

        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--pubkey", key.PublicKey.Text]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("signatures: 3 of 3 valid (checked against the trusted keys)", result.Out, StringComparison.Ordinal);
        Assert.Contains("every receipt is signed by a trusted key", result.Out, StringComparison.Ordinal);
        var json = JsonNode.Parse((await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--pubkey", key.PublicKey.Text, "--json"])).Out)!;
        Assert.Equal(3, (int)json["signatures"]!["checked"]!);
        Assert.True((bool)json["signatures"]!["anchored"]!);
    }

    [Fact]
    public async Task LogVerify_SignaturesWithoutTrustedKey_SaysIntegrityOnly()
    {
        using var home = new TempDir();
        await WriteLog(home.Path);

        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--signatures"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("signatures: 3 of 3 valid (integrity only: each receipt is signed by the key it names, not necessarily a key you trust", result.Out, StringComparison.Ordinal);
        Assert.Contains("every receipt is signed by the key it names", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("trusted key.", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogVerify_Intact_ClosingLineSaysWhatTheChainProvesAndWhatNeedsExpectTip()
    {
        using var home = new TempDir();
        await WriteLog(home.Path);

        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path]);

        Assert.Equal(0, result.ExitCode);
        var last = result.Out.TrimEnd().Split('\n')[^1];
        Assert.StartsWith("proves: the chain is intact from genesis to this tip.", last, StringComparison.Ordinal);
        Assert.Contains("A truncated tail, or records deleted or inserted with every later hash recomputed, is detected only against a tip or checkpoint kept elsewhere: --expect-tip, --checkpoint", last, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogVerify_ExpectTipThatHolds_PrintsNoTruncationWarning()
    {
        using var home = new TempDir();
        var results = await WriteLog(home.Path);

        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--expect-tip", results[1].RecordHash]);

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("truncated", result.Out, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("removing records from the end", result.Out, StringComparison.Ordinal);
        Assert.Contains("it still holds the expected tip, so no record up to that one was removed, inserted or rewritten", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogShow_RecordsOfACall_OneAlignedRowPerCallWithOutcome()
    {
        using var home = new TempDir();
        var calls = await WriteCalls(home.Path);

        var result = await CliRunner.RunAsync(["log", "show", "--home", home.Path], time: Fixed());

        Assert.Equal(0, result.ExitCode);
        var lines = result.Out.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(["TIME (REQUEST)", "TOOL", "SIGNER", "TARGET", "OUTCOME", "RECEIPT"], Regex.Split(lines[0], "  +"));
        Assert.Equal(1 + 4, lines.Length);
        // In the order of the requests, each row with its request time and request receipt id, whatever order the records came in.
        string[][] expected =
        [
            [calls.First.Ts, "read_file", "agent", "mcp://files", "executed, co-signed", calls.First.Id],
            [calls.Second.Ts, "write_file", "agent", "mcp://files", "failed", calls.Second.Id],
            [calls.Unanswered.Ts, "read_file", "agent", "mcp://files", "no response", calls.Unanswered.Id],
            [calls.Repeated.Ts, "read_file", "agent", "mcp://files", "executed", calls.Repeated.Id],
        ];
        var outcomeColumn = lines[0].IndexOf("OUTCOME", StringComparison.Ordinal);
        var receiptColumn = lines[0].IndexOf("RECEIPT", StringComparison.Ordinal);
        for (var i = 0; i < expected.Length; i++)
        {
            var row = lines[i + 1];
            Assert.Equal(expected[i], Regex.Split(row, "  +"));
            Assert.Equal(outcomeColumn, row.IndexOf(expected[i][4], StringComparison.Ordinal));
            Assert.Equal(receiptColumn, row.IndexOf(expected[i][5], StringComparison.Ordinal));
        }

        var failed = await CliRunner.RunAsync(["log", "show", "--home", home.Path, "--tool", "write_file"], time: Fixed());
        Assert.Equal(2, failed.Out.TrimEnd().Split('\n').Length);
        var server = await CliRunner.RunAsync(["log", "show", "--home", home.Path, "--signer", "files-server"], time: Fixed());
        Assert.Contains(calls.First.Id, Assert.Single(server.Out.TrimEnd().Split('\n')[1..]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogShow_Json_KeepsTheRecordFieldsAndNamesEachRecordsCall()
    {
        using var home = new TempDir();
        var calls = await WriteCalls(home.Path);

        var result = await CliRunner.RunAsync(["log", "show", "--home", home.Path, "--json"], time: Fixed());

        Assert.Equal(0, result.ExitCode);
        var records = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(8, records.Count);
        Assert.All(records, r => Assert.All(new[] { "file", "line", "receipt", "prev_hash", "record_hash" }, k => Assert.True(r.ContainsKey(k), k)));
        Assert.Equal(Enumerable.Range(1, 8), records.Select(r => (int)r["line"]!));
        var byLine = records.ToDictionary(r => (int)r["line"]!);
        // Lines: 1 v1 first, 2 v1 second, 3 v2 first, 4 v3 first, 5 v2 second, 6 v1 unanswered, 7 v1 repeated, 8 v2 repeated.
        Assert.Equal(["request", "request", "response", "cosignature", "response", "request", "request", "response"], records.Select(r => (string)r["kind"]!));
        Assert.Equal(calls.First.Id, (string?)byLine[3]["call_receipt_id"]);
        Assert.Equal(calls.First.Id, (string?)byLine[4]["call_receipt_id"]);
        Assert.Equal(calls.Second.Id, (string?)byLine[5]["call_receipt_id"]);
        Assert.Equal(calls.Repeated.Id, (string?)byLine[8]["call_receipt_id"]);
        Assert.Equal(calls.Unanswered.Id, (string?)byLine[6]["call_receipt_id"]);
        Assert.Equal("executed", (string?)byLine[3]["outcome"]);
        Assert.Equal("failed", (string?)byLine[5]["outcome"]);
        Assert.Equal(calls.First.Ts, (string?)byLine[4]["request_ts"]);
        Assert.Equal("mcp://files", (string?)byLine[4]["target"]);
    }

    [Fact]
    public async Task LogExport_Manifest_WritesKeysAsKeyShowPrintsThemAndStillVerifies()
    {
        using var home = new TempDir();
        await WriteLog(home.Path);
        // A key whose base64 has a '+', which the default JSON writer would escape as \u002B.
        var seed = new byte[32];
        SigningKey key;
        for (byte i = 0; ; i++)
        {
            seed.AsSpan().Fill(i);
            key = SigningKey.FromSeed(seed);
            if (key.PublicKey.Text.Contains('+', StringComparison.Ordinal))
            {
                break;
            }
            key.Dispose();
        }
        using (key)
        {
            var bundle = Path.Combine(home.Path, "bundle");
            AuditBundle.Export(Path.Combine(home.Path, "audit"), bundle, key);

            var manifest = File.ReadAllText(Path.Combine(bundle, "manifest.json"));
            Assert.Contains($"\"pubkey\": \"{key.PublicKey.Text}\"", manifest, StringComparison.Ordinal);
            Assert.DoesNotContain("\\u00", manifest, StringComparison.Ordinal);
            var verify = await CliRunner.RunAsync(["log", "verify", "--bundle", bundle, "--pubkey", key.PublicKey.Text]);
            Assert.Equal(0, verify.ExitCode);
            Assert.Contains("(trusted)", verify.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task LogVerifyBundle_EditedRecord_CountsTheRecordsTheFileHolds()
    {
        using var home = new TempDir();
        await WriteLog(home.Path);
        using var key = SigningKey.Generate();
        var bundle = Path.Combine(home.Path, "bundle");
        AuditBundle.Export(Path.Combine(home.Path, "audit"), bundle, key);
        var records = Path.Combine(bundle, "records.jsonl");
        File.WriteAllText(records, File.ReadAllText(records).Replace("\"tool\":\"read_file\"", "\"tool\":\"rm_rf\"", StringComparison.Ordinal));

        var edited = await CliRunner.RunAsync(["log", "verify", "--bundle", bundle, "--pubkey", key.PublicKey.Text, "--json"]);

        Assert.Equal(1, edited.ExitCode);
        var report = JsonNode.Parse(edited.Out)!;
        Assert.Equal(3, (int)report["record_count"]!);
        var problems = report["problems"]!.AsArray().Select(p => (string)p!).ToList();
        Assert.Contains(problems, p => p.Contains("chain breaks at records.jsonl line 2 (Edited)", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("records, the manifest states", StringComparison.Ordinal));

        File.AppendAllText(records, File.ReadAllLines(records)[0] + "\n");
        var added = await CliRunner.RunAsync(["log", "verify", "--bundle", bundle, "--pubkey", key.PublicKey.Text]);
        Assert.Equal(1, added.ExitCode);
        Assert.Contains("records.jsonl holds 4 records, the manifest states 3", added.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogVerifyBundle_Signatures_SaysTheReceiptsAreCheckedForIntegrityOnly()
    {
        using var home = new TempDir();
        await WriteLog(home.Path);
        using var key = SigningKey.Generate();
        var bundle = Path.Combine(home.Path, "bundle");
        AuditBundle.Export(Path.Combine(home.Path, "audit"), bundle, key);

        // --pubkey anchors the manifest's signer here, not the receipts' signers.
        var result = await CliRunner.RunAsync(["log", "verify", "--bundle", bundle, "--pubkey", key.PublicKey.Text, "--signatures"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("receipt signatures: 3 of 3 valid (integrity only: each receipt is signed by the key it names", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadCalls_RequestThatCannotBeAnswered_IsListedBeforeTheNextLineIsRead()
    {
        // A receipt without a call id (signet sign) gets no response receipt, so its row must not wait for one: the
        // listing streams. The order of the callbacks shows when each line was read.
        using var home = new TempDir();
        var results = await WriteLog(home.Path);
        var file = results[0].File;
        var lines = File.ReadAllLines(file).ToList();
        lines.Insert(1, "not a record");
        File.WriteAllLines(file, lines);
        var events = new List<string>();

        foreach (var call in AuditQuery.ReadCalls(Path.Combine(home.Path, "audit"), onSkipped: s => events.Add($"skipped line {s.Line}")))
        {
            events.Add($"row {call.Tool}");
        }

        Assert.Equal(["row search", "skipped line 2", "row read_file", "row write_file"], events);
    }

    private static Microsoft.Extensions.Time.Testing.FakeTimeProvider Fixed() => new(Now);

    private sealed record Call(string Id, string Ts);

    private sealed record Calls(Call First, Call Second, Call Unanswered, Call Repeated);

    /// <summary>
    /// Four calls as a recorder logs them: two interleaved (the second requested before the first's response), the
    /// first co-signed by its server; then a call left unanswered and, two minutes later, the same call (same call id,
    /// same arguments, as after a restart) answered.
    /// </summary>
    private static async Task<Calls> WriteCalls(string home)
    {
        using var agentKey = SigningKey.Generate();
        using var serverKey = SigningKey.Generate();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now.AddHours(-1));
        var agent = new ReceiptSigner(agentKey, "agent", "", time);
        var server = new ReceiptSigner(serverKey, "files-server", "", time);
        await using var log = AuditLog.Open(Path.Combine(home, "audit"), new AuditLogOptions { TimeProvider = time });
        ReceiptAction Action(string tool, string callId) => new() { Tool = tool, Params = new JsonObject { ["path"] = "/etc/hosts" }, Target = "mcp://files", Transport = "stdio", CallId = callId };
        static Call Of(Receipt r) => new(r.Id, r.Json["ts"]!.GetValue<string>());

        var t1 = time.GetUtcNow();
        var first = agent.SignRequest(Action("read_file", "n:1"));
        await log.AppendAsync(first.Json);
        time.Advance(TimeSpan.FromMilliseconds(40));
        var t2 = time.GetUtcNow();
        var second = agent.SignRequest(Action("write_file", "n:2"));
        await log.AppendAsync(second.Json);
        time.Advance(TimeSpan.FromMilliseconds(80));
        var content = new JsonObject { ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "127.0.0.1 localhost" }) };
        await log.AppendAsync(agent.SignCompound(first, content, t1, ReceiptOutcome.Executed).Json);
        await log.AppendAsync(server.CoSign(first, content, ReceiptOutcome.Executed).Json);
        await log.AppendAsync(agent.SignCompound(second, new JsonObject { ["isError"] = true }, t2, ReceiptOutcome.Failed("read-only")).Json);

        time.Advance(TimeSpan.FromSeconds(5));
        var unanswered = agent.SignRequest(Action("read_file", "n:1"));
        await log.AppendAsync(unanswered.Json);
        time.Advance(TimeSpan.FromMinutes(2));
        var t4 = time.GetUtcNow();
        var repeated = agent.SignRequest(Action("read_file", "n:1"));
        await log.AppendAsync(repeated.Json);
        time.Advance(TimeSpan.FromMilliseconds(30));
        await log.AppendAsync(agent.SignCompound(repeated, content, t4, ReceiptOutcome.Executed).Json);
        return new Calls(Of(first), Of(second), Of(unanswered), Of(repeated));
    }

    private static async Task<List<AuditAppendResult>> WriteLog(string home, SigningKey? signingKey = null)
    {
        using var generated = signingKey is null ? SigningKey.Generate() : null;
        var key = signingKey ?? generated!;
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now.AddHours(-1));
        var signer = new ReceiptSigner(key, "cli-agent", "", time);
        var results = new List<AuditAppendResult>();
        await using var log = AuditLog.Open(Path.Combine(home, "audit"), new AuditLogOptions { TimeProvider = time });
        foreach (var (tool, minutes) in new[] { ("search", 0), ("read_file", 30), ("write_file", 20) })
        {
            time.Advance(TimeSpan.FromMinutes(minutes));
            var receipt = signer.SignRequest(new ReceiptAction { Tool = tool, Params = new JsonObject { ["q"] = tool }, Target = "mcp://test" });
            results.Add(await log.AppendAsync(receipt.Json));
        }
        return results;
    }
}
