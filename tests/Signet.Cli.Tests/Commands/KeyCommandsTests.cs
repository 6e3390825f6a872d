using System.Text.Json.Nodes;
using Signet.Keys;

namespace Signet.Cli.Tests.Commands;

public sealed class KeyCommandsTests : IDisposable
{
    private readonly TempDir _home = new();

    private string HomeKeys => Path.Combine(_home.Path, "keys");

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task KeyNew_Unencrypted_PrintsPublicKeyThatKeyShowRepeats()
    {
        var cli = new CliRun();

        var created = await cli.RunAsync("key", "new", "agent", "--unencrypted", "--owner", "alice", "--home", _home.Path);
        var shown = await cli.RunAsync("key", "show", "agent", "--home", _home.Path);

        Assert.Equal(0, created.ExitCode);
        Assert.True(PublicKey.TryParse(created.Out.Trim(), out _, out _), created.Out);
        Assert.StartsWith("ed25519:", created.Out, StringComparison.Ordinal);
        Assert.Contains("unencrypted", created.Error, StringComparison.Ordinal);
        Assert.Equal(0, shown.ExitCode);
        Assert.Equal(created.Out, shown.Out);
        Assert.Equal(created.Out.Trim() + Environment.NewLine, shown.Out);
    }

    [Fact]
    public async Task KeyNew_NoPassphraseAndNoTerminal_ExitsOneSayingWhatToSet()
    {
        var result = await new CliRun().RunAsync("key", "new", "agent", "--home", _home.Path);

        // A missing passphrase is exit 1 in every command (sign, log export, proxy and bridge cannot unlock one either).
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("SIGNET_PASSPHRASE", result.Error, StringComparison.Ordinal);
        Assert.Contains("--unencrypted", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
        Assert.False(Directory.Exists(HomeKeys));
    }

    [Fact]
    public async Task KeyNew_PassphraseFromEnvironment_CreatesEncryptedKeyThatLoads()
    {
        var cli = new CliRun();
        cli.Environment["SIGNET_PASSPHRASE"] = "env secret";

        var created = await cli.RunAsync("key", "new", "agent", "--home", _home.Path);

        Assert.Equal(0, created.ExitCode);
        Assert.Contains("(encrypted)", created.Error, StringComparison.Ordinal);
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(HomeKeys, "agent.key")))!;
        Assert.Equal("argon2id", (string)file["kdf"]!);
        using var loaded = KeyStore.ForHome(_home.Path).Load("agent", PassphraseSource.Fixed("env secret"));
        Assert.Equal(created.Out.Trim(), loaded.PublicKey.Text);
    }

    [Fact]
    public async Task KeyNew_OnTerminal_AsksTwiceWithoutEchoAndRefusesDifferentEntries()
    {
        var cli = new CliRun { Interactive = true };
        cli.Type("first");
        cli.Type("second");

        var result = await cli.RunAsync("key", "new", "agent", "--home", _home.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("New passphrase for key \"agent\"", result.Error, StringComparison.Ordinal);
        Assert.Contains("the two passphrases differ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("first", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(HomeKeys, "agent.key")));
    }

    [Fact]
    public async Task KeyNew_UnencryptedWithPassphraseFile_IsAUsageError()
    {
        var result = await new CliRun().RunAsync("key", "new", "agent", "--unencrypted", "--passphrase-file", "x", "--home", _home.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("cannot be used together", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyNew_InvalidName_IsAUsageError()
    {
        var result = await new CliRun().RunAsync("key", "new", "../evil", "--unencrypted", "--home", _home.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("letters, digits, '_' and '-'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyNew_ExistingName_FailsAndKeepsTheOldKey()
    {
        var cli = new CliRun();
        var first = await cli.RunAsync("key", "new", "agent", "--unencrypted", "--home", _home.Path);

        var second = await cli.RunAsync("key", "new", "agent", "--unencrypted", "--home", _home.Path);
        var shown = await cli.RunAsync("key", "show", "agent", "--home", _home.Path);

        Assert.Equal(1, second.ExitCode);
        Assert.Contains("already exists", second.Error, StringComparison.Ordinal);
        Assert.Equal(first.Out, shown.Out);
    }

    [Fact]
    public async Task KeyNew_UsesSignetHomeFromEnvironment()
    {
        var cli = new CliRun();
        cli.Environment["SIGNET_HOME"] = _home.Path;

        var result = await cli.RunAsync("key", "new", "agent", "--unencrypted");

        Assert.Equal(0, result.ExitCode);
        Assert.True(File.Exists(Path.Combine(HomeKeys, "agent.key")));
    }

    [Fact]
    public async Task KeyList_Json_ListsEveryKeyWithItsDetails()
    {
        var cli = new CliRun();
        var alpha = await cli.RunAsync("key", "new", "alpha", "--unencrypted", "--owner", "ops", "--home", _home.Path);
        await cli.RunAsync("key", "new", "beta", "--unencrypted", "--home", _home.Path);
        File.WriteAllText(Path.Combine(HomeKeys, "broken.key"), "{");

        var result = await cli.RunAsync("key", "list", "--json", "--home", _home.Path);

        Assert.Equal(0, result.ExitCode);
        var list = JsonNode.Parse(result.Out)!.AsArray();
        Assert.Equal(["alpha", "beta", "broken"], list.Select(e => (string)e!["name"]!));
        Assert.Equal(alpha.Out.Trim(), (string)list[0]!["pubkey"]!);
        Assert.Equal("ops", (string)list[0]!["owner"]!);
        Assert.False((bool)list[0]!["encrypted"]!);
        Assert.NotNull((string?)list[0]!["created_at"]);
        Assert.Contains("not valid JSON", (string)list[2]!["error"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyList_Text_ShowsATableRowPerKey()
    {
        var cli = new CliRun();
        var created = await cli.RunAsync("key", "new", "alpha", "--unencrypted", "--home", _home.Path);

        var result = await cli.RunAsync("key", "list", "--home", _home.Path);

        var lines = result.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("NAME", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("alpha", lines[1], StringComparison.Ordinal);
        Assert.EndsWith(created.Out.Trim(), lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyList_NoKeys_SaysHowToCreateOne()
    {
        var result = await new CliRun().RunAsync("key", "list", "--home", _home.Path);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Contains("signet key new", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyShow_Json_PrintsDetails()
    {
        var cli = new CliRun();
        var created = await cli.RunAsync("key", "new", "agent", "--unencrypted", "--owner", "me", "--home", _home.Path);

        var result = await cli.RunAsync("key", "show", "agent", "--json", "--home", _home.Path);

        var json = JsonNode.Parse(result.Out)!;
        Assert.Equal(created.Out.Trim(), (string)json["pubkey"]!);
        Assert.Equal("me", (string)json["owner"]!);
        Assert.Equal(Path.Combine(HomeKeys, "agent.key"), (string)json["key_file"]!);
    }

    [Fact]
    public async Task KeyShow_MissingKey_ExitsOneListingAvailableKeys()
    {
        var cli = new CliRun();
        await cli.RunAsync("key", "new", "agent", "--unencrypted", "--home", _home.Path);

        var result = await cli.RunAsync("key", "show", "nope", "--home", _home.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Contains("key \"nope\" not found", result.Error, StringComparison.Ordinal);
        Assert.Contains("available: agent", result.Error, StringComparison.Ordinal);
        Assert.Contains("signet key new nope", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
