using System.CommandLine;
using Signet.Keys;

namespace Signet.Cli.Pkcs11;

/// <summary>
/// <c>--pkcs11-module</c> and <c>--pin-file</c>, beside every <c>--key</c>: where the module and the token PIN come from.
/// There is deliberately no option that takes the PIN itself (it would sit in argv, visible to every user).
/// </summary>
internal sealed class Pkcs11Options
{
    public Option<string?> Module { get; } = new("--pkcs11-module")
    {
        HelpName = "PATH",
        Description = $"PKCS#11 module (.so) for a pkcs11: key (default: the URI's module-path, else ${Pkcs11Module.ModuleEnvironmentVariable})",
    };

    public Option<string?> PinFile { get; } = new("--pin-file")
    {
        HelpName = "FILE",
        Description = $"Read the PKCS#11 token's PIN from the first line of FILE (else ${Pkcs11Module.PinEnvironmentVariable}, else a prompt)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Module);
        command.Options.Add(PinFile);
    }

    /// <summary>The URI, parsed; a malformed or unsupported one is a usage error.</summary>
    public static Pkcs11Uri ParseUri(string text)
    {
        try
        {
            return Pkcs11Uri.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CliUsageException(e.Message);
        }
    }

    /// <summary>The module: <c>--pkcs11-module</c>, else the URI's <c>module-path</c>, else <c>SIGNET_PKCS11_MODULE</c>.</summary>
    public string ModulePath(ParseResult parse, Pkcs11Uri uri, CliConsole console)
    {
        var path = parse.GetValue(Module);
        if (string.IsNullOrEmpty(path))
        {
            path = uri.ModulePath;
        }
        if (string.IsNullOrEmpty(path))
        {
            path = console.GetEnvironmentVariable(Pkcs11Module.ModuleEnvironmentVariable);
        }
        return string.IsNullOrEmpty(path)
            ? throw new CliUsageException(
                $"no PKCS#11 module for {uri.Text}: pass --pkcs11-module PATH or set {Pkcs11Module.ModuleEnvironmentVariable} " +
                "(for SoftHSM2: /usr/lib/softhsm/libsofthsm2.so, from the package softhsm2)")
            : path;
    }

    /// <summary>The PIN sources in order: <c>--pin-file</c>, the URI's <c>pin-source</c>, <c>SIGNET_PKCS11_PIN</c>, a prompt on a terminal.</summary>
    public PassphraseSource Pin(ParseResult parse, Pkcs11Uri uri, CliConsole console)
    {
        var sources = new List<PassphraseSource>();
        foreach (var file in new[] { parse.GetValue(PinFile), uri.PinSource })
        {
            if (!string.IsNullOrEmpty(file))
            {
                sources.Add(PassphraseSource.FromFile(file));
            }
        }
        sources.Add(PassphraseSource.FromEnvironment(Pkcs11Module.PinEnvironmentVariable, console.GetEnvironmentVariable));
        if (console.IsInteractive && console.ReadKey is not null)
        {
            sources.Add(PassphraseSource.Prompt(console.ReadKey, console.Error));
        }
        return PassphraseSource.FirstOf([.. sources]);
    }

    /// <summary>Opens the key the URI names; the caller disposes it.</summary>
    public LoadedKey Load(ParseResult parse, Pkcs11Uri uri, CliConsole console)
    {
        var signer = Pkcs11Signer.Open(ModulePath(parse, uri, console), uri, Pin(parse, uri, console));
        return new LoadedKey(uri.SignerName, "", signer);
    }
}
