using System.Text.Json.Nodes;
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
        Assert.Equal(3, all.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var tool = await CliRunner.RunAsync(["log", "show", "--home", home.Path, "--tool", "read_file", "--json"], time: Fixed());
        var line = Assert.Single(tool.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var record = JsonNode.Parse(line)!;
        Assert.Equal("read_file", (string?)record["receipt"]!["action"]!["tool"]);
        Assert.Equal(2, (int)record["line"]!);

        // Receipts are stamped 2026-11-26T11:00, 11:30 and 11:50; "now" is 12:00.
        var recent = await CliRunner.RunAsync(["log", "show", "--home", home.Path, "--since", "20m"], time: Fixed());
        Assert.Single(recent.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
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

    private static Microsoft.Extensions.Time.Testing.FakeTimeProvider Fixed() => new(Now);

    private static async Task<List<AuditAppendResult>> WriteLog(string home)
    {
        using var key = SigningKey.Generate();
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
