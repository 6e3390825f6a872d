using System.Text.Json.Nodes;

namespace Signet.Cli.Tests.Commands;

public sealed class SignCommandTests
{
    [Fact]
    public async Task Sign_WithKey_PrintsVerifiableReceiptAndAppendsToLog()
    {
        using var home = new TempDir();
        Assert.Equal(0, (await CliRunner.RunAsync(["key", "new", "alice", "--unencrypted", "--owner", "acme", "--home", home.Path])).ExitCode);

        var signed = await CliRunner.RunAsync(["sign", "--home", home.Path, "--key", "alice", "--tool", "deploy", "--params", "{\"env\":\"prod\"}", "--target", "mcp://ci", "--call-id", "n:1"]);
        Assert.Equal(0, signed.ExitCode);
        var receipt = JsonNode.Parse(signed.Out)!;
        Assert.Equal("deploy", receipt["action"]!["tool"]!.GetValue<string>());
        Assert.Equal("acme", receipt["signer"]!["owner"]!.GetValue<string>());
        Assert.Equal("n:1", receipt["action"]!["call_id"]!.GetValue<string>());
        Assert.Single(signed.Out.Trim().Split('\n'));

        var file = home.File("r.json");
        await File.WriteAllTextAsync(file, signed.Out);
        var key = (await CliRunner.RunAsync(["key", "show", "alice", "--home", home.Path])).Out.Trim();
        Assert.Equal(0, (await CliRunner.RunAsync(["verify", file, "--pubkey", key])).ExitCode);

        var log = await CliRunner.RunAsync(["log", "verify", "--home", home.Path]);
        Assert.Equal(0, log.ExitCode);
        Assert.Contains("1 record", log.Out);
    }

    [Fact]
    public async Task Sign_NoLog_LeavesNoAuditFile()
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "default", "--unencrypted", "--home", home.Path]);
        var signed = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "t", "--no-log"]);
        Assert.Equal(0, signed.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(home.Path, "audit")) && Directory.GetFiles(Path.Combine(home.Path, "audit"), "*.jsonl").Length > 0);
    }

    [Fact]
    public async Task Sign_KeyFromEnvironmentAndHashOnly_KeepsArgumentsOut()
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "bot", "--unencrypted", "--home", home.Path]);
        var signed = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "t", "--params", "{\"secret\":\"x\"}", "--hash-only", "--no-log"],
            env: new Dictionary<string, string?> { ["SIGNET_KEY"] = "bot" });
        Assert.Equal(0, signed.ExitCode);
        var receipt = JsonNode.Parse(signed.Out)!;
        Assert.Null(receipt["action"]!["params"]);
        Assert.DoesNotContain("secret", signed.Out);
        Assert.Equal("bot", receipt["signer"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sign_Expires_WritesSignedExp()
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "default", "--unencrypted", "--home", home.Path]);
        var signed = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "t", "--expires", "1h", "--no-log"]);
        Assert.Equal("2026-11-26T13:00:00.000Z", JsonNode.Parse(signed.Out)!["exp"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sign_MissingKey_ExitsOneNamingTheFix()
    {
        using var home = new TempDir();
        var result = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "t"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("signet key new", result.Error);
        Assert.Equal("", result.Out);
    }

    [Theory]
    [InlineData("{\"a\":1,\"a\":2}")]
    [InlineData("{not json")]
    public async Task Sign_BadParams_ExitsTwo(string parameters)
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "default", "--unencrypted", "--home", home.Path]);
        var result = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "t", "--params", parameters]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--params", result.Error);
    }

    [Fact]
    public async Task Sign_IntegerBeyondSafeRange_ExitsOneWithPath()
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "default", "--unencrypted", "--home", home.Path]);
        var result = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "t", "--params", "{\"n\":9007199254740993}"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("$.n", result.Error);
    }

    [Fact]
    public async Task Sign_ParamsFromPrettyPrintedFile_SignsTheFilesJson()
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "default", "--unencrypted", "--home", home.Path]);
        var file = home.File("args.json");
        await File.WriteAllTextAsync(file, "{\n  \"env\": \"prod\",\n  \"replicas\": 3\n}\n");

        var signed = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "deploy", "--params", "@" + file, "--no-log"]);

        Assert.True(signed.ExitCode == 0, signed.Error);
        var parameters = JsonNode.Parse(signed.Out)!["action"]!["params"]!;
        Assert.Equal("prod", parameters["env"]!.GetValue<string>());
        Assert.Equal(3, parameters["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task Sign_ParamsDashReadsStdin_SignsThatJson()
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "default", "--unencrypted", "--home", home.Path]);

        var signed = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "t", "--params", "-", "--no-log"], stdin: "{\n  \"q\": [1, 2]\n}\n");

        Assert.True(signed.ExitCode == 0, signed.Error);
        Assert.Equal("[1,2]", JsonNode.Parse(signed.Out)!["action"]!["params"]!["q"]!.ToJsonString());
    }

    [Fact]
    public async Task Sign_ParamsFileMissing_ExitsOneNamingTheFile()
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "default", "--unencrypted", "--home", home.Path]);
        var missing = home.File("nope.json");

        var result = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "t", "--params", "@" + missing]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{missing}: no such file (from --params @{missing}", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Sign_ParamsFileNotJson_ExitsOneNamingTheFileAndLine()
    {
        using var home = new TempDir();
        await CliRunner.RunAsync(["key", "new", "default", "--unencrypted", "--home", home.Path]);
        var file = home.File("args.json");
        await File.WriteAllTextAsync(file, "{\n  \"env\": prod\n}\n");

        var result = await CliRunner.RunAsync(["sign", "--home", home.Path, "--tool", "t", "--params", "@" + file]);

        // The file's content is input the command reads, like canon's and verify's: exit 1, not a usage error.
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(file + ": invalid JSON at line 2", result.Error, StringComparison.Ordinal);
    }
}
