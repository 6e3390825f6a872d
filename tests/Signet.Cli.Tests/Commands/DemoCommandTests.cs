namespace Signet.Cli.Tests.Commands;

public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_RealProcesses_SignsVerifiesAndCatchesTheEdit()
    {
        using var home = new TempDir();
        await using var demo = SignetProcess.Start(["demo", "--home", home.Path], new Dictionary<string, string?>());
        var output = await demo.ReadToEndAsync();
        var exit = await demo.WaitAsync();

        Assert.True(exit == 0, output + demo.Error);
        // Five calls through the proxy: a v1 and a v2 receipt each, all verified against the demo key.
        Assert.Contains("10 records, hash chain intact, 10 signatures valid", output);
        Assert.Contains("outcome failed", output);
        Assert.Contains("(3 progress notifications passed through)", output);
        Assert.Contains("line 3 (Edited)", output);

        // The log left behind is real: the CLI verifies it too.
        var verify = await CliRunner.RunAsync(["log", "verify", "--home", home.Path]);
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("10 records", verify.Out);
    }
}
