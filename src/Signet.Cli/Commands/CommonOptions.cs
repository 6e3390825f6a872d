using System.CommandLine;

namespace Signet.Cli.Commands;

/// <summary>Options shared by several commands, so they are spelled and described once.</summary>
internal static class CommonOptions
{
    public static Option<string?> Home() => new("--home")
    {
        Description = "Signet home directory (default: $SIGNET_HOME, else ~/.signet)",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print machine-readable JSON",
    };

    /// <summary>Resolves the home directory from --home, SIGNET_HOME, then ~/.signet.</summary>
    public static string ResolveHome(string? option, CliConsole console) =>
        SignetHome.Resolve(option, console.GetEnvironmentVariable);
}
