using System.Text.Json.Nodes;
using Signet.Cli.Pkcs11;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Cli.Tests.Pkcs11;

/// <summary><c>signet key new|import|show</c>, <c>sign</c> and <c>log export</c> with PKCS#11 keys in a real SoftHSM2 token.</summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11CommandTests : IDisposable
{
    private readonly SoftHsm _hsm = SoftHsm.ForThisProcess("T");
    private readonly TempDir _dir = new();
    private readonly CliRun _cli = new();

    public Pkcs11CommandTests()
    {
        Home = _dir.File("home");
        Uri = $"pkcs11:token={_hsm.Label("T")};object=agent";
        foreach (var (name, value) in _hsm.Variables())
        {
            _cli.Environment[name] = value;
        }
    }

    private string Home { get; }

    private string Uri { get; }

    public void Dispose()
    {
        _dir.Dispose();
        _hsm.Dispose();
    }

    [Fact]
    public async Task KeyNew_Pkcs11_KeyShowAndSignUseTheTokenKeyAndTheReceiptVerifies()
    {
        var created = await _cli.RunAsync("key", "new", "--pkcs11", Uri);
        Assert.True(created.ExitCode == 0, created.Error);
        var publicKey = PublicKey.Parse(created.Out.Trim());
        Assert.Contains("non-extractable", created.Error, StringComparison.Ordinal);

        var shown = await _cli.RunAsync("key", "show", Uri);
        Assert.Equal(publicKey.Text, shown.Out.Trim());
        var json = JsonNode.Parse((await _cli.RunAsync("key", "show", Uri, "--json")).Out)!;
        Assert.Equal(publicKey.Text, (string)json["pubkey"]!);
        Assert.Equal(Uri, (string)json["pkcs11_uri"]!);

        var signed = await _cli.RunAsync("sign", "--home", Home, "--key", Uri, "--tool", "echo", "--params", """{"message":"hé"}""");
        Assert.True(signed.ExitCode == 0, signed.Error);
        var verification = ReceiptVerifier.Verify(signed.Out, new ReceiptVerificationOptions { TrustedKeys = [publicKey] });
        Assert.True(verification.IsValid && verification.IsAnchored, verification.Reason);
        Assert.Equal("agent", (string)verification.Receipt!.Json["signer"]!["name"]!);

        File.WriteAllText(_dir.File("receipt.json"), signed.Out);
        var verified = await _cli.RunAsync("verify", _dir.File("receipt.json"), "--pubkey", publicKey.Text);
        Assert.True(verified.ExitCode == 0, verified.Out + verified.Error);
        var logged = await _cli.RunAsync("log", "verify", "--home", Home);
        Assert.True(logged.ExitCode == 0, logged.Out + logged.Error);
    }

    [Fact]
    public async Task KeyShow_Pkcs11_NeedsNoPin()
    {
        var created = await _cli.RunAsync("key", "new", "--pkcs11", Uri);
        Assert.True(created.ExitCode == 0, created.Error);
        _cli.Environment[Pkcs11Module.PinEnvironmentVariable] = null;

        var shown = await _cli.RunAsync("key", "show", Uri);
        var json = await _cli.RunAsync("key", "show", Uri, "--json");

        Assert.True(shown.ExitCode == 0, shown.Error);
        Assert.Equal(created.Out.Trim(), shown.Out.Trim());
        var details = JsonNode.Parse(json.Out)!;
        Assert.Equal("agent", (string)details["name"]!);
        Assert.Contains("in PKCS#11 token", (string)details["location"]!, StringComparison.Ordinal);
        // Signing still needs the PIN: with none and no terminal, it says where to put one.
        var signed = await _cli.RunAsync("sign", "--home", Home, "--key", Uri, "--tool", "echo");
        Assert.Equal(1, signed.ExitCode);
        Assert.Contains(Pkcs11Module.PinEnvironmentVariable, signed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyImport_FileKey_SamePublicKeyAndSaysTheFileStillExists()
    {
        _cli.Environment["SIGNET_PASSPHRASE"] = "file-passphrase";
        var file = await _cli.RunAsync("key", "new", "agent", "--home", Home);
        Assert.True(file.ExitCode == 0, file.Error);

        var imported = await _cli.RunAsync("key", "import", "agent", "--home", Home, "--pkcs11", Uri);

        Assert.True(imported.ExitCode == 0, imported.Error);
        Assert.Equal(file.Out.Trim(), imported.Out.Trim());
        var keyFile = Path.Combine(Home, "keys", "agent.key");
        Assert.Contains($"The key file still exists and can still sign: {keyFile}", imported.Error, StringComparison.Ordinal);
        Assert.Contains("delete it", imported.Error, StringComparison.Ordinal);
        Assert.True(File.Exists(keyFile));
        Assert.Equal(file.Out.Trim(), (await _cli.RunAsync("key", "show", Uri)).Out.Trim());
    }

    [Fact]
    public async Task Sign_PinOption_DoesNotExist()
    {
        Assert.Equal(0, (await _cli.RunAsync("key", "new", "--pkcs11", Uri)).ExitCode);

        var result = await _cli.RunAsync("sign", "--home", Home, "--key", Uri, "--tool", "echo", "--pin", SoftHsm.Pin);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--pin", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_NoPinAndNoTerminal_ExitOneSayingWhereToPutThePin()
    {
        Assert.Equal(0, (await _cli.RunAsync("key", "new", "--pkcs11", Uri)).ExitCode);
        _cli.Environment.Remove("SIGNET_PKCS11_PIN");

        var result = await _cli.RunAsync("sign", "--home", Home, "--key", Uri, "--tool", "echo", "--no-log");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no PIN for token", result.Error, StringComparison.Ordinal);
        Assert.Contains("SIGNET_PKCS11_PIN", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Sign_PinFile_UsedInsteadOfTheEnvironment()
    {
        Assert.Equal(0, (await _cli.RunAsync("key", "new", "--pkcs11", Uri)).ExitCode);
        _cli.Environment["SIGNET_PKCS11_PIN"] = "wrong-pin";
        File.WriteAllText(_dir.File("pin"), SoftHsm.Pin + "\n");

        var result = await _cli.RunAsync("sign", "--home", Home, "--key", Uri, "--tool", "echo", "--no-log", "--pin-file", _dir.File("pin"));

        Assert.True(result.ExitCode == 0, result.Error);
    }

    [Fact]
    public async Task Sign_WrongPin_ExitOneAndThePinIsNotPrinted()
    {
        Assert.Equal(0, (await _cli.RunAsync("key", "new", "--pkcs11", Uri)).ExitCode);
        _cli.Environment["SIGNET_PKCS11_PIN"] = "wrong-pin-77";

        var result = await _cli.RunAsync("sign", "--home", Home, "--key", Uri, "--tool", "echo", "--no-log");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"the PIN for token \"{_hsm.Label("T")}\" was refused", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pin-77", result.Error + result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_OnATerminal_PromptsForThePinWithoutEcho()
    {
        Assert.Equal(0, (await _cli.RunAsync("key", "new", "--pkcs11", Uri)).ExitCode);
        var cli = new CliRun { Interactive = true };
        foreach (var (name, value) in _hsm.Variables().Where(v => v.Key != "SIGNET_PKCS11_PIN"))
        {
            cli.Environment[name] = value;
        }
        cli.Type(SoftHsm.Pin);

        var result = await cli.RunAsync("sign", "--home", Home, "--key", Uri, "--tool", "echo", "--no-log");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"PIN for token \"{_hsm.Label("T")}\": ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(SoftHsm.Pin, result.Error + result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_NoModuleGiven_UsageErrorNamingTheOptionAndVariable()
    {
        _cli.Environment.Remove("SIGNET_PKCS11_MODULE");

        var result = await _cli.RunAsync("sign", "--home", Home, "--key", Uri, "--tool", "echo", "--no-log");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--pkcs11-module", result.Error, StringComparison.Ordinal);
        Assert.Contains("SIGNET_PKCS11_MODULE", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_KeyFromSignetKeyVariable_MayBeAUri()
    {
        var created = await _cli.RunAsync("key", "new", "--pkcs11", Uri);
        _cli.Environment["SIGNET_KEY"] = Uri;

        var result = await _cli.RunAsync("sign", "--home", Home, "--tool", "echo", "--no-log");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(created.Out.Trim(), (string)JsonNode.Parse(result.Out)!["signer"]!["pubkey"]!);
    }

    [Fact]
    public async Task LogExport_Pkcs11Key_BundleSignedByTheTokenVerifies()
    {
        var created = await _cli.RunAsync("key", "new", "--pkcs11", Uri);
        Assert.Equal(0, (await _cli.RunAsync("sign", "--home", Home, "--key", Uri, "--tool", "echo")).ExitCode);

        var export = await _cli.RunAsync("log", "export", "--home", Home, "--key", Uri, "--out", _dir.File("bundle"));
        Assert.True(export.ExitCode == 0, export.Error);

        var verified = await _cli.RunAsync("log", "verify", "--bundle", _dir.File("bundle"), "--pubkey", created.Out.Trim());
        Assert.True(verified.ExitCode == 0, verified.Out + verified.Error);
    }

    [Theory]
    [InlineData("new", "agent", "--pkcs11")]
    [InlineData("new", "--unencrypted", "--pkcs11")]
    public async Task KeyNew_Pkcs11WithFileKeyOptions_UsageError(string verb, string extra, string option)
    {
        var result = await _cli.RunAsync("key", verb, extra, option, Uri);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--pkcs11 names the key by its URI", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyShow_UnsupportedUri_UsageError()
    {
        var result = await _cli.RunAsync("key", "show", Uri + ";slot-id=1");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("\"slot-id\" is not supported", result.Error, StringComparison.Ordinal);
    }
}
