using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Cli.Tests.Commands;

public sealed class LogRepairCommandTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task LogVerify_OneByteEditOfTheLastRecord_ExitsOneBeforeAndAfterAWriterOpensTheLog()
    {
        using var home = new TempDir();
        var day = await WriteLog(home.Path);
        KeyStore.ForHome(home.Path).CreateUnencrypted("default");
        var bytes = File.ReadAllBytes(day);
        bytes[^2] = (byte)'x'; // the closing brace of the last, complete record
        File.WriteAllBytes(day, bytes);

        var before = await CliRunner.RunAsync(["log", "verify", "--home", home.Path]);
        Assert.Equal(1, before.ExitCode);
        Assert.Contains($"chain BROKEN at {Path.GetFileName(day)} line 3", before.Out, StringComparison.Ordinal);

        // A writer (here `signet sign`) refuses to append, says why and what to run, and removes nothing.
        var sign = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "deploy"]);
        Assert.Equal(1, sign.ExitCode);
        Assert.Contains($"{day} line 3", sign.Error, StringComparison.Ordinal);
        Assert.Contains("signet log repair", sign.Error, StringComparison.Ordinal);
        Assert.Equal(bytes, File.ReadAllBytes(day));

        var after = await CliRunner.RunAsync(["log", "verify", "--home", home.Path]);
        Assert.Equal(1, after.ExitCode);
        Assert.Contains($"chain BROKEN at {Path.GetFileName(day)} line 3", after.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("torn", after.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogRepair_CorruptLastLine_MovesItAsideRecordsASignedReceiptAndWritersContinue()
    {
        using var home = new TempDir();
        var day = await WriteLog(home.Path);
        var info = KeyStore.ForHome(home.Path).CreateUnencrypted("repairer");
        var text = File.ReadAllText(day);
        var lastStart = text.LastIndexOf('\n', text.Length - 2) + 1;
        File.WriteAllText(day, text[..lastStart] + "{\"receipt\": damaged}\n");

        var repair = await CliRunner.RunAsync(["log", "repair", "--home", home.Path, "--key", "repairer"]);
        Assert.Equal(0, repair.ExitCode);
        var saved = $"{day}.{lastStart}.corrupt";
        Assert.Contains($"moved {Path.GetFileName(day)} line 3 (21 bytes, sha256:", repair.Out, StringComparison.Ordinal);
        Assert.Contains($"to {saved}", repair.Out, StringComparison.Ordinal);
        Assert.Contains("recorded in the log: 2026-11-26.jsonl line 3", repair.Out, StringComparison.Ordinal);
        Assert.Equal("{\"receipt\": damaged}\n", File.ReadAllText(saved));

        var verify = await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--signatures", "--pubkey", info.PublicKey.Text]);
        Assert.Equal(1, verify.ExitCode); // the earlier records were signed by another key; the repair record is not among the failures
        Assert.Contains("chain intact: 3 records", verify.Out, StringComparison.Ordinal);
        Assert.Contains("signatures: 1 of 3 valid", verify.Out, StringComparison.Ordinal);
        Assert.Contains($"kept as {saved}", verify.Error, StringComparison.Ordinal);

        var shown = await CliRunner.RunAsync(["log", "show", "--home", home.Path, "--tool", "signet.log.repair", "--json"]);
        var receipt = JsonNode.Parse(shown.Out.Trim())!["receipt"]!;
        var parameters = receipt["action"]!["params"]!;
        Assert.Equal("2026-11-26.jsonl", (string?)parameters["file"]);
        Assert.Equal(3, (int)parameters["line"]!);
        Assert.Equal(21, (int)parameters["length"]!);
        Assert.StartsWith("sha256:", (string?)parameters["sha256"], StringComparison.Ordinal);
        Assert.Equal(Path.GetFileName(saved), (string?)parameters["moved_to"]);
        Assert.Equal(info.PublicKey.Text, (string?)receipt["signer"]!["pubkey"]);

        Assert.Equal(0, (await CliRunner.RunAsync(["sign", "--home", home.Path, "--key", "repairer", "--tool", "deploy"])).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync(["log", "verify", "--home", home.Path])).ExitCode);
    }

    [Fact]
    public async Task LogRepair_NothingToRepair_ExitsZeroWithoutAKey()
    {
        using var home = new TempDir();
        var day = await WriteLog(home.Path);
        var bytes = File.ReadAllBytes(day);

        var result = await CliRunner.RunAsync(["log", "repair", "--home", home.Path, "--key", "nosuchkey"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("nothing to repair", result.Out, StringComparison.Ordinal);
        Assert.Equal(bytes, File.ReadAllBytes(day));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(day)!, "*.corrupt"));
    }

    [Fact]
    public async Task LogVerify_JsonlFileThatIsNotADayFile_WarnsNamingItAndDoesNotWalkIt()
    {
        using var home = new TempDir();
        var day = await WriteLog(home.Path);
        var stray = Path.Combine(Path.GetDirectoryName(day)!, "import.jsonl");
        File.WriteAllText(stray, "garbage\n");

        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("chain intact: 3 records in 1 files", result.Out, StringComparison.Ordinal);
        Assert.Contains($"warning: {stray} is not a day file", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogVerifyJson_JsonlFileThatIsNotADayFile_ListedInOtherFiles()
    {
        using var home = new TempDir();
        var day = await WriteLog(home.Path);
        var stray = Path.Combine(Path.GetDirectoryName(day)!, "import.jsonl");
        File.WriteAllText(stray, "garbage\n");

        var result = await CliRunner.RunAsync(["log", "verify", "--home", home.Path, "--json"]);

        Assert.Equal(0, result.ExitCode);
        var report = JsonNode.Parse(result.Out)!;
        Assert.Equal(stray, (string?)Assert.Single(report["other_files"]!.AsArray()));
        Assert.Empty(report["repair_files"]!.AsArray());
    }

    private static async Task<string> WriteLog(string home)
    {
        using var key = SigningKey.Generate();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now.AddHours(-1));
        var signer = new ReceiptSigner(key, "cli-agent", "", time);
        await using var log = AuditLog.Open(Path.Combine(home, "audit"), new AuditLogOptions { TimeProvider = time });
        AuditAppendResult last = null!;
        foreach (var tool in new[] { "search", "read_file", "write_file" })
        {
            last = await log.AppendAsync(signer.SignRequest(new ReceiptAction { Tool = tool, Params = new JsonObject { ["q"] = tool }, Target = "mcp://test" }).Json);
        }
        return last.File;
    }
}
