using System.CommandLine;
using System.Text.RegularExpressions;

namespace Signet.Cli.Tests;

/// <summary>What holds for the whole command line: help, response files, exit codes, <c>--home</c>.</summary>
public sealed class SignetCliTests
{
    [Fact]
    public async Task Run_NoArguments_PrintsHelpAndExitsZero()
    {
        var result = await CliRunner.RunAsync([]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.Out, StringComparison.Ordinal);
        Assert.Contains("log", result.Out, StringComparison.Ordinal);
        Assert.Equal("", result.Error);
    }

    [Theory]
    [InlineData("key", "show")]
    [InlineData("log", "verify")]
    public async Task Run_GroupWithoutSubcommand_PrintsItsHelpAndExitsZero(string group, string subcommand)
    {
        var result = await CliRunner.RunAsync([group]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($" {group} [command] [options]", result.Out, StringComparison.Ordinal);
        Assert.Contains(subcommand, result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ProxyServerWithScopedNpmPackageAndNoDoubleDash_KeepsTheAtArgument()
    {
        // Some MCP clients drop the "--" before the server command; "@scope/name" must stay an argument, not a response file.
        var root = SignetCli.Build(new CliRun().Console(new StringWriter(), new StringWriter()));

        var parse = SignetCli.Parse(root, ["proxy", "npx", "-y", "@modelcontextprotocol/server-filesystem", "/tmp"]);

        Assert.Empty(parse.Errors);
        Assert.Equal(["npx", "-y", "@modelcontextprotocol/server-filesystem", "/tmp"], parse.GetValue<string[]>("command")!);
    }

    [Fact]
    public async Task Run_UnknownSubcommandOfAGroup_ExitsTwo()
    {
        var result = await CliRunner.RunAsync(["log", "frobnicate"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("frobnicate", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_AtWordNamingNoFile_IsAnOrdinaryArgument()
    {
        var result = await CliRunner.RunAsync(["log", "show", "--tool", "@not-a-response-file", "--home", "/nonexistent-signet-home"]);

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("Response file", result.Error, StringComparison.Ordinal);
        Assert.Contains("no matching records", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("key", "new", "agent")]
    [InlineData("sign", "--key", "locked", "--tool", "t")]
    [InlineData("log", "export", "--key", "locked", "--out", "bundle")]
    public async Task Run_EncryptedKeyWithoutPassphrase_ExitsOneInEveryCommand(params string[] args)
    {
        using var home = new TempDir();
        var env = new Dictionary<string, string?> { ["SIGNET_PASSPHRASE"] = "pw" };
        Assert.Equal(0, (await CliRunner.RunAsync(["key", "new", "locked", "--home", home.Path], env: env)).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync(["sign", "--key", "locked", "--tool", "t", "--home", home.Path], env: env)).ExitCode);

        var result = await CliRunner.RunAsync([.. args, "--home", home.Path]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("SIGNET_PASSPHRASE", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Canon_MissingFile_ExitsOneNamingTheFile()
    {
        var result = await CliRunner.RunAsync(["canon", "/nonexistent/some.json"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("/nonexistent/some.json: no such file", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Readme_HomeOption_ListsExactlyTheCommandsThatTakeIt()
    {
        var root = SignetCli.Build(new CliRun().Console(new StringWriter(), new StringWriter()));
        var withHome = new SortedSet<string>(StringComparer.Ordinal);
        var without = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (path, command) in Leaves(root, ""))
        {
            (command.Options.Any(o => o.Name == "--home") ? withHome : without).Add(path);
        }

        var readme = File.ReadAllText(CliRunner.RepositoryFile("README.md"));
        var sentence = Regex.Match(readme, @"`--home DIR`[^:]*only these\s+take it:(?<with>[^.]*)\.(?<rest>[^.]*)\.");
        Assert.True(sentence.Success, "README.md: the sentence that says which commands take --home was not found");
        Assert.Equal(withHome, Commands(sentence.Groups["with"].Value));
        Assert.Equal(without, Commands(sentence.Groups["rest"].Value));
    }

    private static SortedSet<string> Commands(string text) =>
        new(Regex.Matches(text, "`([a-z][a-z -]*)`").Select(m => m.Groups[1].Value), StringComparer.Ordinal);

    private static IEnumerable<(string Path, Command Command)> Leaves(Command command, string prefix)
    {
        foreach (var sub in command.Subcommands.Where(c => !c.Hidden))
        {
            var path = prefix.Length == 0 ? sub.Name : prefix + " " + sub.Name;
            if (sub.Subcommands.Count == 0)
            {
                yield return (path, sub);
            }
            foreach (var leaf in Leaves(sub, path))
            {
                yield return leaf;
            }
        }
    }
}
