using System.CommandLine;
using System.Runtime.InteropServices;
using Signet.Bridge.Witness;
using Signet.Cli.Logging;
using Signet.Cli.Pkcs11;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet witness serve | vkey</c>: a C2SP tlog-witness that cosigns other machines' audit-log checkpoints, so that
/// a log cannot be rewritten, cut short or forked without the witness refusing and keeping the evidence.
/// </summary>
internal static class WitnessCommands
{
    /// <summary>The environment variable that can carry the witness's bearer token instead of a file.</summary>
    public const string TokenVariable = "SIGNET_WITNESS_TOKEN";

    /// <summary>The witness key's name in the key store when <c>--key</c> is not given.</summary>
    public const string DefaultKeyName = "witness";

    public static Command Create(CliConsole console)
    {
        var witness = new Command("witness", "Run a transparency-log witness that cosigns audit-log checkpoints (C2SP tlog-witness)");
        witness.Subcommands.Add(Serve(console));
        witness.Subcommands.Add(VerifierKey(console));
        return witness;
    }

    private static Option<string?> NameOption() => new("--name")
    {
        HelpName = "NAME",
        Description = "The witness's name in its cosignature lines, e.g. witness.example.com/w1 (default: <host name>/witness)",
    };

    private static Option<string?> KeyOption() => new("--key")
    {
        HelpName = "NAME|URI",
        Description = $"The witness's own signing key: a name in HOME/keys (default: \"{DefaultKeyName}\"; create it with 'signet key new {DefaultKeyName}') or a PKCS#11 URI pkcs11:token=…;object=…. Never the key of a log it witnesses",
    };

    /// <summary>
    /// The witness's own agent. Only this option names one: <c>SIGNET_AGENT_SOCK</c> in the environment is most likely the
    /// agent of the log being witnessed, whose key a witness must never use.
    /// </summary>
    private static Option<string?> AgentOption() => new("--agent")
    {
        HelpName = "SOCKET",
        Description = "Cosign through the signer agent listening on SOCKET that holds the witness's key (SIGNET_AGENT_SOCK is not read: it would name the log's agent)",
    };

    private static Command Serve(CliConsole console)
    {
        var home = CommonOptions.Home();
        var name = NameOption();
        var key = KeyOption();
        var agent = AgentOption();
        var passphraseFile = Passphrases.FileOption();
        var pkcs11 = new Pkcs11Options();
        var logs = new Option<string[]>("--log")
        {
            HelpName = "VKEY",
            Description = "The verifier key of a log to cosign for, as 'signet log checkpoint --verifier-key' prints it (repeatable; its name is the log's origin)",
            AllowMultipleArgumentsPerToken = false,
        };
        var state = new Option<string?>("--state") { HelpName = "DIR", Description = "Where the witness keeps the last checkpoint it cosigned per log (default: HOME/witness)" };
        var listen = new Option<string[]>("--listen") { Description = "Address to listen on, HOST:PORT or https://HOST:PORT (repeatable; default 127.0.0.1:8790)" };
        var allowHost = new Option<string[]>("--allow-host") { Description = "Another host name allowed in Host headers (repeatable)" };
        var tokenFile = new Option<string?>("--token-file") { Description = $"File holding the bearer token clients must send; created (0600) with a new token if missing. Required beyond loopback (default: HOME/witness.token when listening beyond loopback; or set {TokenVariable})" };
        var verbose = new Option<bool>("--verbose") { Description = "Log every request" };
        var command = new Command("serve", "Serve the tlog-witness API: POST /add-checkpoint, GET /<origin hash>/checkpoint")
        {
            home, name, key, agent, passphraseFile, logs, state, listen, allowHost, tokenFile, verbose,
        };
        pkcs11.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var homeDir = CommonOptions.ResolveHome(parse.GetValue(home), console);
            var logKeys = new List<NoteVerifierKey>();
            foreach (var text in parse.GetValue(logs) ?? [])
            {
                try
                {
                    logKeys.Add(NoteVerifierKey.Parse(ReadKeyArgument(text)));
                }
                catch (SignetException e)
                {
                    throw new CliUsageException($"--log {text}: {e.Message}");
                }
            }
            if (logKeys.Count == 0)
            {
                throw new CliUsageException("give at least one --log VKEY: the verifier key of a log to cosign for ('signet log checkpoint --verifier-key' on the log's machine prints it)");
            }
            var options = new WitnessServerOptions();
            foreach (var address in parse.GetValue(listen) ?? [])
            {
                options.Listen.Add(address);
            }
            foreach (var host in parse.GetValue(allowHost) ?? [])
            {
                options.AllowedHosts.Add(host);
            }
            var beyondLoopback = options.Listen.Any(a => !IsLoopbackAddress(a));
            options.Token = ResolveToken(parse.GetValue(tokenFile), homeDir, beyondLoopback, console);

            using var logging = CliLogging.CreateStderrFactory(console.Error, "signet witness", parse.GetValue(verbose), null);
            using var loaded = LoadKey(parse, homeDir, parse.GetValue(key), parse.GetValue(agent), parse.GetValue(passphraseFile), pkcs11, console);
            var witnessName = WitnessName(parse.GetValue(name));
            if (logKeys.Any(k => k.PublicKey.Equals(loaded.PublicKey)))
            {
                throw new CliUsageException($"the witness key \"{loaded.Name}\" is also the key of a log it witnesses: a witness must hold a key of its own ('signet key new {DefaultKeyName}')");
            }
            using var witnessCore = Witness.Open(parse.GetValue(state) ?? Path.Combine(homeDir, "witness"), witnessName, loaded.Signer, logKeys, console.Time,
                logging.CreateLogger("Signet.Witness"));
            await using var server = WitnessServer.Create(witnessCore, options, logging);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            await server.StartAsync(stop.Token);
            await console.Error.WriteLineAsync($"signet witness: listening at {string.Join(", ", server.Addresses)} for {string.Join(", ", witnessCore.Origins)}");
            await console.Error.WriteLineAsync($"signet witness: give logs this key: {witnessCore.VerifierKey}");
            // Two lines on stdout, for scripts and tests to read once it listens: the verifier key, then the address(es).
            await console.Out.WriteLineAsync(witnessCore.VerifierKey.ToString());
            await console.Out.WriteLineAsync(string.Join(' ', server.Addresses));
            await console.Out.FlushAsync(ct);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                await console.Error.WriteLineAsync("signet witness: stopping");
            }
            await server.StopAsync(CancellationToken.None);
            return SignetCli.Ok;
        });
        return command;
    }

    private static Command VerifierKey(CliConsole console)
    {
        var home = CommonOptions.Home();
        var name = NameOption();
        var key = KeyOption();
        var agent = AgentOption();
        var pkcs11 = new Pkcs11Options();
        var command = new Command("vkey", "Print the witness's cosignature verifier key (what logs pass to --witness URL=VKEY), without unlocking the key")
        {
            home, name, key, agent,
        };
        pkcs11.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var homeDir = CommonOptions.ResolveHome(parse.GetValue(home), console);
            var publicKey = PublicKeyOf(parse, homeDir, parse.GetValue(key), parse.GetValue(agent), pkcs11, console);
            await console.Out.WriteLineAsync(NoteVerifierKey.ForCosignatures(WitnessName(parse.GetValue(name)), publicKey).ToString());
            return SignetCli.Ok;
        });
        return command;
    }

    /// <summary>A vkey given inline, or a file holding one.</summary>
    internal static string ReadKeyArgument(string text)
    {
        if (!text.Contains('+', StringComparison.Ordinal) && File.Exists(text))
        {
            return File.ReadAllText(text).Trim();
        }
        return text.Trim();
    }

    private static string WitnessName(string? name)
    {
        var result = name ?? Environment.MachineName.ToLowerInvariant() + "/witness";
        if (result.Length == 0 || result.Any(c => char.IsWhiteSpace(c) || c == '+' || char.IsControl(c)))
        {
            throw new CliUsageException($"--name \"{result}\": a witness name is non-empty, with no spaces or '+' (for example witness.example.com/w1)");
        }
        return result;
    }

    private static KeyInfo DescribeKey(string home, string keyName, CliConsole console)
    {
        var store = KeyStore.ForHome(home, console.Time);
        if (!KeyStore.IsValidName(keyName) || !store.Exists(keyName))
        {
            throw new SignetException($"no key \"{keyName}\" in {Path.Combine(home, "keys")}: create the witness's own key with 'signet key new {keyName}'");
        }
        return store.Describe(keyName);
    }

    /// <summary>The witness's key: through <c>--agent</c>, from a PKCS#11 token, or from the key store; the caller disposes it.</summary>
    private static LoadedKey LoadKey(ParseResult parse, string home, string? keyName, string? agentSocket, string? passphraseFile, Pkcs11Options pkcs11,
        CliConsole console)
    {
        if (!string.IsNullOrEmpty(agentSocket))
        {
            if (keyName is not null)
            {
                throw new CliUsageException("--key and --agent both name the witness's key: give one");
            }
            var signer = AgentSigner.Connect(Path.GetFullPath(agentSocket, console.WorkingDirectory));
            return new LoadedKey(signer.Name, signer.Owner, signer);
        }
        var name = keyName ?? DefaultKeyName;
        if (Pkcs11Uri.IsUri(name))
        {
            return pkcs11.Load(parse, Pkcs11Options.ParseUri(name), console);
        }
        _ = DescribeKey(home, name, console);
        return KeyStore.ForHome(home, console.Time).Load(name, Passphrases.For(console, passphraseFile));
    }

    /// <summary>The witness key's public key, without unlocking it (a token key is read from its public object, an agent asked).</summary>
    private static PublicKey PublicKeyOf(ParseResult parse, string home, string? keyName, string? agentSocket, Pkcs11Options pkcs11, CliConsole console)
    {
        if (!string.IsNullOrEmpty(agentSocket))
        {
            using var loaded = LoadKey(parse, home, keyName, agentSocket, null, pkcs11, console);
            return loaded.PublicKey;
        }
        var name = keyName ?? DefaultKeyName;
        if (!Pkcs11Uri.IsUri(name))
        {
            return DescribeKey(home, name, console).PublicKey;
        }
        var uri = Pkcs11Options.ParseUri(name);
        if (Pkcs11Keys.ReadPublicKey(pkcs11.ModulePath(parse, uri, console), uri) is var (publicKey, _))
        {
            return publicKey;
        }
        using var opened = pkcs11.Load(parse, uri, console);
        return opened.PublicKey;
    }

    private static string? ResolveToken(string? tokenFile, string home, bool beyondLoopback, CliConsole console)
    {
        if (tokenFile is null && console.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } fromEnv)
        {
            return fromEnv.Trim();
        }
        if (tokenFile is null && !beyondLoopback)
        {
            return null;
        }
        var path = tokenFile ?? Path.Combine(home, "witness.token");
        var token = Bridge.BridgeToken.LoadOrCreate(path, RandomSource.Cryptographic, out var created);
        if (created)
        {
            console.Error.WriteLine($"signet witness: generated a bearer token and saved it to {path} (mode 0600); give it to the logs (SIGNET_WITNESS_TOKEN or --witness-token-file).");
        }
        return token;
    }

    private static bool IsLoopbackAddress(string address)
    {
        var rest = address.Replace("https://", "", StringComparison.OrdinalIgnoreCase).Replace("http://", "", StringComparison.OrdinalIgnoreCase);
        var colon = rest.LastIndexOf(':');
        var host = (colon > 0 ? rest[..colon] : rest).Trim('[', ']');
        return host is "localhost" || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
    }
}
