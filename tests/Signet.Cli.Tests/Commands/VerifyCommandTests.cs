using System.Text.Json.Nodes;

namespace Signet.Cli.Tests.Commands;

public sealed class VerifyCommandTests
{
    private const string AgentKey = "ed25519:re0crWU/9YjQYx5F7TYI2YQ+hehKw6zPEpIV2OdVWoc=";
    private const string ServerKey = "ed25519:aybGArd2B0fhWoWM+Ei+YvHBsHuySoYQk/AW6PyKeyc=";

    [Fact]
    public async Task Verify_ValidReceiptWithTrustedKey_ExitsZero()
    {
        using var dir = new TempDir();
        var file = WriteReceipt(dir, "v1-basic.json");
        var result = await CliRunner.RunAsync(["verify", file, "--pubkey", AgentKey]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("OK", result.Out);
        Assert.DoesNotContain("integrity only", result.Out);
    }

    [Fact]
    public async Task Verify_WithoutKey_ValidButSaysIntegrityOnly()
    {
        using var dir = new TempDir();
        var result = await CliRunner.RunAsync(["verify", WriteReceipt(dir, "v1-basic.json")]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("integrity only", result.Out);
    }

    [Theory]
    [InlineData("v1-basic-tampered.json")]
    [InlineData("v1-tamper-params-hash.json")]
    [InlineData("v1-wrong-key.json")]
    public async Task Verify_BadReceipt_ExitsOneWithReason(string vector)
    {
        using var dir = new TempDir();
        var key = JsonNode.Parse(File.ReadAllText(CliRunner.SharedVectors("vectors", vector)))!["public_key"]!.GetValue<string>();
        var result = await CliRunner.RunAsync(["verify", WriteReceipt(dir, vector), "--pubkey", key]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("FAIL", result.Out);
    }

    [Fact]
    public async Task Verify_StdinV3WithBothKeysAsJson_ReportsValid()
    {
        var receipt = JsonNode.Parse(File.ReadAllText(CliRunner.SharedVectors("vectors", "v3-bilateral.json")))!["receipt"]!.ToJsonString();
        var result = await CliRunner.RunAsync(["verify", "-", "--pubkey", AgentKey, "--pubkey", ServerKey, "--json"], stdin: receipt);
        Assert.Equal(0, result.ExitCode);
        var array = JsonNode.Parse(result.Out)!.AsArray();
        Assert.True(array[0]!["valid"]!.GetValue<bool>());
        Assert.Equal(3, array[0]!["version"]!.GetValue<int>());
    }

    [Fact]
    public async Task Verify_ReferenceAuditLogLines_EachVerified()
    {
        var file = CliRunner.SharedVectors("vectors", "audit", "audit", "2026-04-20.jsonl");
        var result = await CliRunner.RunAsync(["verify", file, "--pubkey", AgentKey]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(":1:", result.Out);
    }

    [Fact]
    public async Task Verify_TrustedKeysFileWithComments_Anchors()
    {
        using var dir = new TempDir();
        var keys = dir.File("trusted.txt");
        await File.WriteAllTextAsync(keys, "# agents\n" + AgentKey + " peer-agent\n");
        var result = await CliRunner.RunAsync(["verify", WriteReceipt(dir, "v1-unicode.json"), "--trusted-keys", keys]);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Verify_MissingFile_ExitsOne()
    {
        var result = await CliRunner.RunAsync(["verify", "/nonexistent/receipt.json"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no such file", result.Error);
    }

    [Fact]
    public async Task Verify_EditedParams_SaysParamsHashMismatch()
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "alice", "--unencrypted", "--home", home.Path]);
        var signed = await CliRunner.RunAsync(["sign", "--home", home.Path, "--key", "alice", "--tool", "deploy", "--params", "{\"env\":\"staging\"}", "--no-log"]);
        var file = home.File("receipt.json");
        await File.WriteAllTextAsync(file, signed.Out.Replace("\"env\":\"staging\"", "\"env\":\"prod\"", StringComparison.Ordinal));

        var result = await CliRunner.RunAsync(["verify", file, "--json"]);

        Assert.Equal(1, result.ExitCode);
        var verdict = JsonNode.Parse(result.Out)![0]!;
        Assert.StartsWith("signature mismatch: params_hash mismatch: the params were changed after signing", (string?)verdict["reason"], StringComparison.Ordinal);
        Assert.Equal("action.params", (string?)verdict["field"]);
    }

    [Fact]
    public async Task Verify_EditedTarget_SaysSignatureMismatchOnly()
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "alice", "--unencrypted", "--home", home.Path]);
        var signed = await CliRunner.RunAsync(["sign", "--home", home.Path, "--key", "alice", "--tool", "deploy", "--target", "mcp://ci", "--no-log"]);
        var file = home.File("receipt.json");
        await File.WriteAllTextAsync(file, signed.Out.Replace("mcp://ci", "mcp://prod", StringComparison.Ordinal));

        var result = await CliRunner.RunAsync(["verify", file]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("FAIL", result.Out, StringComparison.Ordinal);
        Assert.Contains(": signature mismatch [field sig]", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_PubkeyFileMissing_ExitsOneNamingTheFile()
    {
        using var dir = new TempDir();
        var missing = dir.File("alice.pub");

        var result = await CliRunner.RunAsync(["verify", WriteReceipt(dir, "v1-basic.json"), "--pubkey", missing]);

        // A missing file is exit 1 in every command; a malformed key (below) is a usage error.
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{missing}: no such file (from --pubkey", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_BadPubkeyArgument_ExitsTwo()
    {
        using var dir = new TempDir();
        var result = await CliRunner.RunAsync(["verify", WriteReceipt(dir, "v1-basic.json"), "--pubkey", "ed25519:nope"]);
        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task Canon_StdinJson_PrintsCanonicalForm()
    {
        var result = await CliRunner.RunAsync(["canon"], stdin: "{\"b\": 1e2, \"a\": [true, \"\\u00e9\"]}\n");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("{\"a\":[true,\"é\"],\"b\":100}", result.Out.Trim());
    }

    [Fact]
    public async Task Canon_DuplicateKey_ExitsOneWithPlace()
    {
        var result = await CliRunner.RunAsync(["canon"], stdin: "{\"a\":1,\n\"a\":2}");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("line 2", result.Error);
    }

    [Fact]
    public async Task UnknownCommand_ExitsTwo()
    {
        var result = await CliRunner.RunAsync(["frobnicate"]);
        Assert.Equal(2, result.ExitCode);
    }

    private static string WriteReceipt(TempDir dir, string vector)
    {
        var receipt = JsonNode.Parse(File.ReadAllText(CliRunner.SharedVectors("vectors", vector)), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 512 })!["receipt"]!;
        var path = dir.File(vector);
        File.WriteAllText(path, receipt.ToJsonString());
        return path;
    }
}
