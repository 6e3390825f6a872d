using System.CommandLine;
using Signet.Cli.Commands;

namespace Signet.Cli;

/// <summary>Builds the <c>signet</c> command tree and runs it.</summary>
internal static class SignetCli
{
    /// <summary>Exit code for success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code for failed verification or a runtime error (the reason goes to stderr).</summary>
    public const int Failed = 1;

    /// <summary>Exit code for a usage error.</summary>
    public const int Usage = 2;

    public static async Task<int> RunAsync(string[] args, CliConsole console)
    {
        var root = Build(console);
        var parse = root.Parse(ProxyCommand.WithSeparator(args, root));
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await console.Error.WriteLineAsync($"signet: {error.Message}");
            }
            await console.Error.WriteLineAsync("Run 'signet --help' for usage.");
            return Usage;
        }

        var config = new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false };
        if (parse.CommandResult.Command.Name == ProxyCommand.Name)
        {
            // The proxy handles SIGINT/SIGTERM itself: it passes them on to its child and exits with the child's code.
            config.ProcessTerminationTimeout = null;
        }
        try
        {
            return await parse.InvokeAsync(config);
        }
        catch (CliUsageException e)
        {
            await console.Error.WriteLineAsync($"signet: {e.Message}");
            return Usage;
        }
        catch (SignetException e)
        {
            await console.Error.WriteLineAsync($"signet: {e.Message}");
            return Failed;
        }
        catch (OperationCanceledException)
        {
            await console.Error.WriteLineAsync("signet: cancelled");
            return Failed;
        }
    }

    internal static RootCommand Build(CliConsole console)
    {
        var root = new RootCommand("Signet: signed, hash-chained receipts for AI-agent tool calls.");
        foreach (var command in CommandCatalog.All(console))
        {
            root.Subcommands.Add(command);
        }
        return root;
    }
}

/// <summary>Raised for a command line that parses but makes no sense (exit code 2).</summary>
internal sealed class CliUsageException(string message) : Exception(message);
