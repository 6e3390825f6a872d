using System.CommandLine;
using Signet.Cli.Pkcs11;
using Signet.Keys;

namespace Signet.Cli;

/// <summary>
/// The <c>--key</c>, <c>--agent</c>, <c>--passphrase-file</c>, <c>--pkcs11-module</c> and <c>--pin-file</c> options of every
/// command that signs, and loading the key they name: the signer agent at <c>--agent</c> or <c>SIGNET_AGENT_SOCK</c> when
/// one is named; else <c>--key</c>, else <c>SIGNET_KEY</c>, else <c>default</c>: a key file's name in HOME/keys, or a
/// PKCS#11 URI (<c>pkcs11:token=…;object=…</c>). Add them with <see cref="AddTo"/>, load with <see cref="Load"/>.
/// </summary>
/// <remarks>
/// With an agent, an explicit <c>--key</c> must name the agent's key (its name or URI): one that differs is a usage error
/// rather than a silent choice between two keys. <c>SIGNET_KEY</c> does not count: the agent wins over the environment.
/// </remarks>
internal sealed class KeyOptions
{
    /// <summary>The environment variable naming the key when <c>--key</c> is not given.</summary>
    public const string KeyEnvironmentVariable = "SIGNET_KEY";

    /// <summary>The key used when neither <c>--key</c> nor <c>SIGNET_KEY</c> names one.</summary>
    public const string DefaultKeyName = "default";

    public Option<string?> Key { get; } = new("--key")
    {
        HelpName = "NAME|URI",
        Description = $"Signing key: a name in HOME/keys, or a PKCS#11 URI pkcs11:token=…;object=… (default: ${KeyEnvironmentVariable}, else \"{DefaultKeyName}\")",
    };

    public Option<string?> Agent { get; } = new("--agent")
    {
        HelpName = "SOCKET",
        Description = $"Sign through the signer agent listening on SOCKET (default: ${AgentProtocol.SocketEnvironmentVariable}); the key stays in the agent's process",
    };

    public Option<string?> PassphraseFile { get; } = Passphrases.FileOption();

    public Pkcs11Options Pkcs11 { get; } = new();

    public void AddTo(Command command)
    {
        command.Options.Add(Key);
        command.Options.Add(Agent);
        command.Options.Add(PassphraseFile);
        Pkcs11.AddTo(command);
    }

    /// <summary>The agent's socket from <c>--agent</c>, else <c>SIGNET_AGENT_SOCK</c>; null to sign with a key loaded here.</summary>
    public string? ResolveAgent(ParseResult parse, CliConsole console)
    {
        var socket = parse.GetValue(Agent);
        if (string.IsNullOrEmpty(socket))
        {
            socket = console.GetEnvironmentVariable(AgentProtocol.SocketEnvironmentVariable);
        }
        return string.IsNullOrEmpty(socket) ? null : Path.GetFullPath(socket, console.WorkingDirectory);
    }

    /// <summary>
    /// The key from <c>--key</c>, <c>SIGNET_KEY</c> or the default: a key name, or a PKCS#11 URI as given; a malformed
    /// name or URI is a usage error.
    /// </summary>
    public string ResolveName(ParseResult parse, CliConsole console)
    {
        var name = parse.GetValue(Key);
        if (string.IsNullOrEmpty(name))
        {
            name = console.GetEnvironmentVariable(KeyEnvironmentVariable);
        }
        if (string.IsNullOrEmpty(name))
        {
            name = DefaultKeyName;
        }
        if (Pkcs11Uri.IsUri(name))
        {
            Pkcs11Options.ParseUri(name);
            return name;
        }
        if (!KeyStore.IsValidName(name))
        {
            throw new CliUsageException(
                $"invalid key name \"{name}\" (from --key or {KeyEnvironmentVariable}): use only letters, digits, '_' and '-', or a PKCS#11 URI pkcs11:…");
        }
        return name;
    }

    /// <summary>Loads and unlocks the named key from the home's key store, or opens the PKCS#11 key; the caller disposes the result.</summary>
    /// <exception cref="SignetException">The key is missing, damaged, or cannot be unlocked (the message says what to do).</exception>
    public LoadedKey Load(ParseResult parse, string home, CliConsole console)
    {
        if (ResolveAgent(parse, console) is { } socket)
        {
            return LoadFromAgent(parse, socket);
        }
        var name = ResolveName(parse, console);
        if (Pkcs11Uri.IsUri(name))
        {
            return Pkcs11.Load(parse, Pkcs11Options.ParseUri(name), console);
        }
        var store = KeyStore.ForHome(home, console.Time);
        return store.Load(name, Passphrases.For(console, parse.GetValue(PassphraseFile)));
    }

    private LoadedKey LoadFromAgent(ParseResult parse, string socket)
    {
        var agent = AgentSigner.Connect(socket);
        var key = parse.GetValue(Key);
        if (!string.IsNullOrEmpty(key) && key != agent.KeySource && key != agent.Name)
        {
            agent.Dispose();
            throw new CliUsageException(
                $"--key {key}, but the signer agent at {socket} holds {agent.KeySource}: drop --key to sign with the agent's key, " +
                $"or drop --agent (and unset {AgentProtocol.SocketEnvironmentVariable}) to load {key} in this process");
        }
        return new LoadedKey(agent.Name, agent.Owner, agent);
    }
}

/// <summary>Where the CLI gets passphrases: <c>--passphrase-file</c>, else <c>SIGNET_PASSPHRASE</c>, else a no-echo prompt.</summary>
internal static class Passphrases
{
    public static Option<string?> FileOption() => new("--passphrase-file")
    {
        HelpName = "FILE",
        Description = $"Read the key's passphrase from the first line of FILE (else ${PassphraseSource.EnvironmentVariable}, else a prompt)",
    };

    /// <summary>
    /// The passphrase sources in order. An explicit <c>--passphrase-file</c> wins over the environment; the prompt is
    /// used only on a terminal.
    /// </summary>
    public static PassphraseSource For(CliConsole console, string? passphraseFile)
    {
        var sources = new List<PassphraseSource>();
        if (!string.IsNullOrEmpty(passphraseFile))
        {
            sources.Add(PassphraseSource.FromFile(passphraseFile));
        }
        sources.Add(PassphraseSource.FromEnvironment(console.GetEnvironmentVariable));
        if (CanPrompt(console))
        {
            sources.Add(PassphraseSource.Prompt(console.ReadKey!, console.Error));
        }
        return PassphraseSource.FirstOf([.. sources]);
    }

    /// <summary>True when some source can give a passphrase without asking a terminal that is not there.</summary>
    public static bool AnyAvailable(CliConsole console, string? passphraseFile) =>
        !string.IsNullOrEmpty(passphraseFile)
        || !string.IsNullOrEmpty(console.GetEnvironmentVariable(PassphraseSource.EnvironmentVariable))
        || CanPrompt(console);

    private static bool CanPrompt(CliConsole console) => console.IsInteractive && console.ReadKey is not null;
}
