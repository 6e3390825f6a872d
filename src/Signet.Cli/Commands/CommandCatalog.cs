using System.CommandLine;

namespace Signet.Cli.Commands;

/// <summary>The top-level commands, in the order <c>signet --help</c> lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All(CliConsole console)
    {
        yield return DemoCommand.Create(console);
        yield return KeyCommands.Create(console);
        yield return AgentCommands.Create(console);
        yield return SignCommand.Create(console);
        yield return VerifyCommand.Create(console);
        yield return LogCommands.Create(console);
        yield return TrustCommands.Create(console);
        yield return ProxyCommand.Create(console);
        yield return BridgeCommand.Create(console);
        yield return WitnessCommands.Create(console);
        yield return WrapCommands.CreateWrap(console);
        yield return WrapCommands.CreateUnwrap(console);
        yield return CanonCommand.Create(console);
        yield return DemoServerCommand.Create(console);
    }
}
