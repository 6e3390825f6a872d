using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Cli.Tests.Commands;

/// <summary>A byte 0xFF inside a JSON string, in every file a command reads: exit 1, the place named, no stack trace.</summary>
public sealed class InvalidUtf8CommandTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDir _home = new();

    public void Dispose() => _home.Dispose();

    /// <summary>Replaces the byte after the first <paramref name="marker"/> with 0xFF; returns its offset in the file.</summary>
    private static int Corrupt(string path, string marker)
    {
        var bytes = File.ReadAllBytes(path);
        var at = bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(marker)) + marker.Length;
        Assert.True(at >= marker.Length, $"{marker} not found in {path}");
        bytes[at] = 0xFF;
        File.WriteAllBytes(path, bytes);
        return at;
    }

    private static void AssertRefused(CliRunner.Result result, params string[] expected)
    {
        Assert.Equal(1, result.ExitCode);
        var all = result.Out + result.Error;
        Assert.DoesNotContain("   at ", all, StringComparison.Ordinal);
        Assert.Contains("invalid UTF-8", all, StringComparison.Ordinal);
        Assert.DoesNotContain("surrogate", all, StringComparison.Ordinal);
        foreach (var text in expected)
        {
            Assert.Contains(text, all, StringComparison.Ordinal);
        }
    }

    private async Task<List<AuditAppendResult>> WriteLog(int records = 3)
    {
        using var key = SigningKey.Generate();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now.AddHours(-1));
        var signer = new ReceiptSigner(key, "cli-agent", "", time);
        var results = new List<AuditAppendResult>();
        await using var log = AuditLog.Open(Path.Combine(_home.Path, "audit"), new AuditLogOptions { TimeProvider = time });
        for (var i = 0; i < records; i++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            var receipt = signer.SignRequest(new ReceiptAction { Tool = "tool" + i, Params = new JsonObject { ["q"] = "zz" + i }, Target = "mcp://test" });
            results.Add(await log.AppendAsync(receipt.Json));
        }
        return results;
    }

    /// <summary>Puts 0xFF into record <paramref name="line"/> (1-based) of the day file; returns its offset within that line.</summary>
    private static int CorruptRecord(string file, int line)
    {
        var bytes = File.ReadAllBytes(file);
        var start = 0;
        for (var i = 1; i < line; i++)
        {
            start = Array.IndexOf(bytes, (byte)'\n', start) + 1;
        }
        var at = bytes.AsSpan(start).IndexOf("\"zz"u8) + 3;
        bytes[start + at] = 0xFF;
        File.WriteAllBytes(file, bytes);
        return at;
    }

    private string SignedReceiptFile()
    {
        using var key = SigningKey.Generate();
        var receipt = new ReceiptSigner(key, "cli-agent", "", new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now))
            .SignRequest(new ReceiptAction { Tool = "deploy", Params = new JsonObject { ["env"] = "prod" }, Target = "mcp://ci" });
        var path = Path.Combine(_home.Path, "receipt.json");
        File.WriteAllText(path, receipt.ToJsonString() + "\n");
        return path;
    }

    [Fact]
    public async Task Verify_ReceiptFileWithInvalidUtf8_ExitsOneNamingFileLineAndOffset()
    {
        var path = SignedReceiptFile();
        var at = Corrupt(path, "\"pr");

        var result = await CliRunner.RunAsync(["verify", path]);

        AssertRefused(result, path, "line 1,", $"byte offset {at}");
    }

    [Fact]
    public async Task Verify_StdinWithInvalidUtf8_ExitsOneNamingOffset()
    {
        var path = SignedReceiptFile();
        var at = Corrupt(path, "\"pr");

        var result = await CliRunner.RunAsync(["verify", "-"], File.ReadAllBytes(path));

        AssertRefused(result, "-:", "line 1,", $"byte offset {at}");
    }

    [Fact]
    public async Task Verify_JsonLinesWithInvalidUtf8_ExitsOneNamingFileLineAndOffset()
    {
        var results = await WriteLog();
        var at = CorruptRecord(results[0].File, 2);

        var result = await CliRunner.RunAsync(["verify", results[0].File]);

        AssertRefused(result, $"{results[0].File}:2:", $"byte offset {at}");
    }

    [Fact]
    public async Task Verify_TrustedKeysFileWithInvalidUtf8_ExitsOneNamingFileLineAndOffset()
    {
        var receipt = SignedReceiptFile();
        var keys = Path.Combine(_home.Path, "keys.txt");
        File.WriteAllBytes(keys, [.. "# trusted\n"u8, .. "ed25519:"u8, 0xFF, .. "\n"u8]);

        var result = await CliRunner.RunAsync(["verify", receipt, "--trusted-keys", keys]);

        AssertRefused(result, $"{keys}:2:", "byte offset 18");
    }

    [Fact]
    public async Task LogVerify_RecordWithInvalidUtf8_ExitsOneReportingInvalidUtf8AtFileLineAndOffset()
    {
        var results = await WriteLog();
        var at = CorruptRecord(results[0].File, 2);

        var result = await CliRunner.RunAsync(["log", "verify", "--home", _home.Path]);

        AssertRefused(result, $"{Path.GetFileName(results[0].File)} line 2", $"byte offset {at} of the line");
    }

    [Fact]
    public async Task LogShow_RecordWithInvalidUtf8_ExitsOneNamingFileLineAndOffset()
    {
        var results = await WriteLog();
        var at = CorruptRecord(results[0].File, 2);

        var result = await CliRunner.RunAsync(["log", "show", "--home", _home.Path]);

        AssertRefused(result, $"{Path.GetFileName(results[0].File)} line 2", $"byte offset {at} of the line");
        Assert.Contains("tool0", result.Out, StringComparison.Ordinal); // the readable records are still listed
        Assert.Contains("tool2", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogExport_RecordWithInvalidUtf8_ExitsOneNamingFileLineAndOffset()
    {
        var results = await WriteLog();
        var at = CorruptRecord(results[0].File, 2);
        var created = await CliRunner.RunAsync(["key", "new", "auditor", "--unencrypted", "--home", _home.Path]);
        Assert.Equal(0, created.ExitCode);

        var result = await CliRunner.RunAsync(["log", "export", "--home", _home.Path, "--key", "auditor", "--out", Path.Combine(_home.Path, "bundle")]);

        AssertRefused(result, $"{results[0].File} line 2", $"byte offset {at} of the line");
    }

    [Fact]
    public async Task LogVerifyBundle_RecordsWithInvalidUtf8_ExitsOneNamingFileLineAndOffset()
    {
        await WriteLog();
        using var key = SigningKey.Generate();
        var bundle = Path.Combine(_home.Path, "bundle");
        AuditBundle.Export(Path.Combine(_home.Path, "audit"), bundle, key);
        var at = CorruptRecord(Path.Combine(bundle, "records.jsonl"), 3);

        var result = await CliRunner.RunAsync(["log", "verify", "--bundle", bundle, "--pubkey", key.PublicKey.Text]);

        AssertRefused(result, "records.jsonl line 3", $"byte offset {at} of the line");
    }

    [Fact]
    public async Task LogVerifyBundle_ManifestWithInvalidUtf8_ExitsOneNamingFileLineAndOffset()
    {
        await WriteLog();
        using var key = SigningKey.Generate();
        var bundle = Path.Combine(_home.Path, "bundle");
        AuditBundle.Export(Path.Combine(_home.Path, "audit"), bundle, key);
        var manifest = Path.Combine(bundle, "manifest.json");
        var at = Corrupt(manifest, "\"sha256:");
        var line = 1 + File.ReadAllBytes(manifest).AsSpan(0, at).Count((byte)'\n');

        var result = await CliRunner.RunAsync(["log", "verify", "--bundle", bundle, "--pubkey", key.PublicKey.Text]);

        AssertRefused(result, manifest, $"line {line},", $"byte offset {at}");
    }

    [Fact]
    public async Task KeyShow_KeyFileWithInvalidUtf8_ExitsOneNamingFileLineAndOffset()
    {
        var created = await CliRunner.RunAsync(["key", "new", "agent", "--unencrypted", "--owner", "alice", "--home", _home.Path]);
        Assert.Equal(0, created.ExitCode);
        var path = Directory.GetFiles(Path.Combine(_home.Path, "keys"), "agent.key").Single();
        var at = Corrupt(path, "\"ag");
        var line = 1 + File.ReadAllBytes(path).AsSpan(0, at).Count((byte)'\n');

        var result = await CliRunner.RunAsync(["key", "show", "agent", "--home", _home.Path]);

        AssertRefused(result, path, $"line {line},", $"byte offset {at}");
    }

    [Fact]
    public async Task Canon_FileWithInvalidUtf8_ExitsOneNamingFileLineAndOffset()
    {
        var path = Path.Combine(_home.Path, "doc.json");
        File.WriteAllBytes(path, [.. "{\"a\":1,\n\"id\":\"z"u8, 0xFF, .. "\"}\n"u8]);

        var result = await CliRunner.RunAsync(["canon", path]);

        AssertRefused(result, path, "line 2,", "byte offset 15");
    }

    [Fact]
    public async Task Canon_StdinWithInvalidUtf8_ExitsOneInsteadOfReplacingTheByte()
    {
        var result = await CliRunner.RunAsync(["canon"], [.. "{\"id\":\"z"u8, 0xFF, .. "\"}"u8]);

        AssertRefused(result, "line 1,", "byte offset 8");
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Wrap_ConfigWithInvalidUtf8_ExitsOneNamingFileLineAndOffset()
    {
        var path = Path.Combine(_home.Path, "claude_desktop_config.json");
        File.WriteAllBytes(path, [.. "{\n  \"mcpServers\": {\n    \"files\": {\"command\": \"np"u8, 0xFF, .. "x\"}\n  }\n}\n"u8]);
        var before = File.ReadAllBytes(path);

        // An explicit command: run from the test's build output, wrap would otherwise refuse before reading the config.
        var result = await CliRunner.RunAsync(["wrap", path, "--home", _home.Path, "--signet-command", "/usr/local/bin/signet"]);

        AssertRefused(result, $"{path}:3:29:", "byte offset 48");
        Assert.Equal(before, File.ReadAllBytes(path));
    }
}
