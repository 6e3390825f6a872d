using System.CommandLine;
using System.CommandLine.Help;
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
        var parse = Parse(root, args);
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

    /// <summary>
    /// Parses without response files: System.CommandLine would otherwise read any <c>@WORD</c> argument as a file of
    /// more arguments, which breaks <c>--params @FILE</c> and npm package names such as
    /// <c>@modelcontextprotocol/server-filesystem</c> in a proxy command line. A <c>signet proxy</c> line without
    /// its <c>--</c> gets it back first (<see cref="ProxyCommand.WithSeparator"/>).
    /// </summary>
    internal static ParseResult Parse(RootCommand root, IReadOnlyList<string> args) =>
        root.Parse(ProxyCommand.WithSeparator([.. args], root), new ParserConfiguration { ResponseFileTokenReplacer = null });

    internal static RootCommand Build(CliConsole console)
    {
        var root = new RootCommand("Signet: signed, hash-chained receipts for AI-agent tool calls.");
        foreach (var command in CommandCatalog.All(console))
        {
            root.Subcommands.Add(command);
        }
        ShowHelpWhenNoSubcommand(root);
        return root;
    }

    /// <summary>
    /// A bare <c>signet</c> (or <c>signet key</c>, <c>signet log</c>) prints its help on stdout and exits 0, as
    /// <c>dotnet</c>, <c>cargo</c>, <c>kubectl</c> and <c>gh</c> do: asking what there is is not an error.
    /// </summary>
    private static void ShowHelpWhenNoSubcommand(Command command)
    {
        if (command.Subcommands.Count == 0)
        {
            return;
        }
        if (command.Action is null)
        {
            // Not `Action = new HelpAction()`: as the command's own action it clears parse errors, so `signet frobnicate`
            // would print help and exit 0 instead of naming the unknown command (exit 2).
            var help = new HelpAction();
            command.SetAction(parse => help.Invoke(parse));
        }
        foreach (var sub in command.Subcommands)
        {
            ShowHelpWhenNoSubcommand(sub);
        }
    }
}

/// <summary>Raised for a command line that parses but makes no sense (exit code 2).</summary>
internal sealed class CliUsageException(string message) : Exception(message);
