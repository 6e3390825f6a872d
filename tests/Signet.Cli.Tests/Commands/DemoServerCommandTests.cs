using Signet.Cli;

namespace Signet.Cli.Tests.Commands;

public sealed class DemoServerCommandTests
{
    [Fact]
    public async Task Help_Root_DoesNotListTheHiddenDemoServer()
    {
        var (exit, stdout, _) = await RunAsync("--help");

        Assert.Equal(SignetCli.Ok, exit);
        Assert.Contains("canon", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("demo-server", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parse_DemoServerWithUnknownOption_IsAUsageErrorNotAnUnknownCommand()
    {
        var (exit, _, stderr) = await RunAsync("demo-server", "--no-such-option");

        Assert.Equal(SignetCli.Usage, exit);
        Assert.Contains("--no-such-option", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("'demo-server'", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var console = new CliConsole
        {
            In = new StringReader(string.Empty),
            Out = stdout,
            Error = stderr,
            GetEnvironmentVariable = _ => null,
        };
        var exit = await SignetCli.RunAsync(args, console);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
