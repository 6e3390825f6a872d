using System.CommandLine;
using Signet.Cli.Logging;
using Signet.Cli.Demo;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet demo-server</c> (hidden): the bundled demo MCP tool server on stdio, which <c>signet demo</c>, the examples
/// and the tests run as a child process. stdout carries only the protocol; logs go to stderr.
/// </summary>
internal static class DemoServerCommand
{
    public static Command Create(CliConsole console)
    {
        var verbose = new Option<bool>("--verbose") { Description = "Log every message, including tool arguments, to stderr" };
        var command = new Command("demo-server", "Run the bundled demo MCP tool server on stdio (used by 'signet demo' and the examples)")
        {
            verbose,
        };
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            using var loggerFactory = CliLogging.CreateStderrFactory(console.Error, "signet demo-server", parse.GetValue(verbose));
            await DemoServer.RunStdioAsync(loggerFactory, console.Time, ct);
            return SignetCli.Ok;
        });
        return command;
    }
}
