using System.CommandLine;
using Signet.Keys;

namespace Signet.Cli.Tests;

public sealed class KeyOptionsTests : IDisposable
{
    private readonly TempDir _home = new();

    private string HomeKeys => Path.Combine(_home.Path, "keys");

    public void Dispose() => _home.Dispose();

    /// <summary>Parses a command that uses <see cref="KeyOptions"/> and loads the key, as sign/proxy/bridge do.</summary>
    private LoadedKey Load(CliRun cli, params string[] args)
    {
        var options = new KeyOptions();
        var command = new RootCommand();
        options.AddTo(command);
        var parse = command.Parse(args);
        Assert.Empty(parse.Errors);
        return options.Load(parse, _home.Path, cli.Console(new StringWriter(), new StringWriter()));
    }

    private PublicKey Create(string name, PassphraseSource? passphrase = null)
    {
        var store = KeyStore.ForHome(_home.Path);
        return (passphrase is null ? store.CreateUnencrypted(name) : store.CreateEncrypted(name, passphrase)).PublicKey;
    }

    [Fact]
    public void Load_KeyOption_WinsOverEnvironment()
    {
        var expected = Create("chosen");
        Create("from-env");
        var cli = new CliRun();
        cli.Environment["SIGNET_KEY"] = "from-env";

        using var key = Load(cli, "--key", "chosen");

        Assert.Equal("chosen", key.Name);
        Assert.Equal(expected, key.PublicKey);
    }

    [Fact]
    public void Load_NoKeyOption_UsesSignetKeyThenDefault()
    {
        Create("from-env");
        Create("default");
        var cli = new CliRun();

        using (var byDefault = Load(cli))
        {
            Assert.Equal("default", byDefault.Name);
        }
        cli.Environment["SIGNET_KEY"] = "from-env";
        using var fromEnv = Load(cli);
        Assert.Equal("from-env", fromEnv.Name);
    }

    [Fact]
    public void Load_EncryptedKeyWithPassphraseFile_Unlocks()
    {
        var expected = Create("agent", PassphraseSource.Fixed("file secret"));
        Directory.CreateDirectory(_home.Path);
        var passFile = Path.Combine(_home.Path, "pass.txt");
        File.WriteAllText(passFile, "file secret\n");
        var cli = new CliRun();
        cli.Environment["SIGNET_PASSPHRASE"] = "stale env value";

        using var key = Load(cli, "--key", "agent", "--passphrase-file", passFile);

        Assert.Equal(expected, key.PublicKey);
    }

    [Fact]
    public void Load_EncryptedKeyWithNoPassphraseAndNoTerminal_SaysWhatToSet()
    {
        Create("agent", PassphraseSource.Fixed("secret"));

        var e = Assert.Throws<KeyStoreException>(() => Load(new CliRun(), "--key", "agent"));

        Assert.Contains(Path.Combine(HomeKeys, "agent.key"), e.Message, StringComparison.Ordinal);
        Assert.Contains("SIGNET_PASSPHRASE", e.Message, StringComparison.Ordinal);
        Assert.Contains("--passphrase-file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_InvalidName_IsAUsageError()
    {
        var cli = new CliRun();
        cli.Environment["SIGNET_KEY"] = "bad name";

        var e = Assert.Throws<CliUsageException>(() => Load(cli));

        Assert.Contains("SIGNET_KEY", e.Message, StringComparison.Ordinal);
    }
}
