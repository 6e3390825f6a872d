using System.CommandLine;
using System.Runtime.InteropServices;
using Signet.Cli.Agent;
using Signet.Cli.Pkcs11;
using Signet.Keys;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet agent</c>: holds an unlocked key in its own process and signs Signet signables for other processes over a
/// Unix domain socket; <c>agent lock|unlock|status</c> talk to a running one.
/// </summary>
internal static class AgentCommands
{
    public const string Name = "agent";

    public static Command Create(CliConsole console)
    {
        var keys = new KeyOptions();
        var home = CommonOptions.Home();
        var socket = SocketOption("Where to listen (default: $XDG_RUNTIME_DIR/signet/agent.sock, else HOME/agent.sock)");
        var allowUid = new Option<uint[]>("--allow-uid")
        {
            HelpName = "UID",
            Description = "Also serve processes of this uid (repeatable); the agent's own uid is always served. Makes the socket 0666: peer credentials are the gate",
            AllowMultipleArgumentsPerToken = false,
        };
        var log = new Option<string?>("--log")
        {
            HelpName = "FILE",
            Description = "Append a JSON line for every signature, refusal, lock and unlock to FILE (fsynced before the signature is returned); they go to stderr too",
        };
        var command = new Command(Name, "Hold a key in this process and sign Signet receipts for other processes over a Unix socket (like ssh-agent)")
        {
            socket, allowUid, log, home, keys.Key, keys.PassphraseFile,
        };
        keys.Pkcs11.AddTo(command);
        command.Subcommands.Add(Lock(console));
        command.Subcommands.Add(Unlock(console));
        command.Subcommands.Add(Status(console));
        command.SetAction(async (parse, ct) =>
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new SignetException("signet agent runs on Linux only (it checks each client with SO_PEERCRED): on this system use a key file or a PKCS#11 key");
            }
            var homeDir = CommonOptions.ResolveHome(parse.GetValue(home), console);
            var path = ResolveSocket(parse.GetValue(socket), homeDir, console, forServer: true);
            // Before the passphrase or PIN is read: no core dump, no ptrace or /proc/PID/mem by other processes of this uid.
            if (UnixCalls.HardenProcess() is { } problem)
            {
                await console.Error.WriteLineAsync($"signet agent: warning: {problem}");
            }
            using var key = OpenKey(keys, parse, homeDir, console);
            using var agentLog = new AgentLog(console.Error, parse.GetValue(log) is { Length: > 0 } logFile ? Path.GetFullPath(logFile, console.WorkingDirectory) : null, console.Time);
            var allowed = (parse.GetValue(allowUid) ?? []).ToHashSet();
            var server = AgentServer.Listen(path, key, agentLog, allowed, console.Time);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            agentLog.Write("start", null, w =>
            {
                w.WriteString("socket", path);
                w.WriteString("pubkey", key.PublicKey.Text);
                w.WriteString("key", key.Source);
                w.WriteNumber("pid", Environment.ProcessId);
            });
            await console.Out.WriteLineAsync($"{AgentProtocol.SocketEnvironmentVariable}={ShellQuote(path)}; export {AgentProtocol.SocketEnvironmentVariable};");
            await console.Out.FlushAsync(CancellationToken.None);
            await server.RunAsync(stop.Token);
            agentLog.Write("stop", null);
            return SignetCli.Ok;
        });
        return command;
    }

    /// <summary>Opens the key at start, and says how to open it again at unlock with the secret a client sends.</summary>
    private static AgentKey OpenKey(KeyOptions keys, ParseResult parse, string home, CliConsole console)
    {
        var name = keys.ResolveName(parse, console);
        if (Pkcs11Uri.IsUri(name))
        {
            var uri = Pkcs11Options.ParseUri(name);
            var module = keys.Pkcs11.ModulePath(parse, uri, console);
            var first = keys.Pkcs11.Load(parse, uri, console);
            return new AgentKey(name, "pkcs11", "pin",
                pin => new LoadedKey(uri.SignerName, "", Pkcs11Signer.Open(module, uri, PassphraseSource.Fixed(pin ?? ""))), first);
        }
        var store = KeyStore.ForHome(home, console.Time);
        var loaded = store.Load(name, Passphrases.For(console, parse.GetValue(keys.PassphraseFile)));
        var encrypted = store.Describe(name).Encrypted;
        return new AgentKey(name, "file", encrypted ? "passphrase" : "none",
            passphrase => store.Load(name, passphrase is null ? PassphraseSource.None : PassphraseSource.Fixed(passphrase)), loaded);
    }

    private static Command Lock(CliConsole console)
    {
        var home = CommonOptions.Home();
        var socket = SocketOption(null);
        var command = new Command("lock", "Take the agent's key out of its memory (a key file's secret is wiped, a token logged out); it refuses to sign until unlocked")
        {
            socket, home,
        };
        command.SetAction(parse =>
        {
            using var agent = Connect(parse.GetValue(socket), parse.GetValue(home), console);
            var changed = agent.Call(AgentProtocol.Request("lock")).GetProperty("changed").GetBoolean();
            console.Out.WriteLine(changed ? $"agent at {agent.SocketPath} locked" : $"agent at {agent.SocketPath} was already locked");
            return SignetCli.Ok;
        });
        return command;
    }

    private static Command Unlock(CliConsole console)
    {
        var home = CommonOptions.Home();
        var socket = SocketOption(null);
        var passphraseFile = Passphrases.FileOption();
        var pkcs11 = new Pkcs11Options();
        var command = new Command("unlock", "Open the agent's key again: the passphrase or PIN (from --passphrase-file/--pin-file, the environment, or a prompt) goes over the socket")
        {
            socket, home, passphraseFile,
        };
        command.Options.Add(pkcs11.PinFile);
        command.SetAction(parse =>
        {
            using var agent = Connect(parse.GetValue(socket), parse.GetValue(home), console);
            var info = agent.Call(AgentProtocol.Request("info"));
            if (!info.GetProperty("locked").GetBoolean())
            {
                console.Out.WriteLine($"agent at {agent.SocketPath} is not locked");
                return SignetCli.Ok;
            }
            string? secret = info.GetProperty("secret").GetString() switch
            {
                "passphrase" => Passphrases.For(console, parse.GetValue(passphraseFile))
                    .GetPassphrase(new PassphraseRequest(agent.Name, agent.KeySource, PassphrasePurpose.Unlock))
                    ?? throw new SignetException($"no passphrase to unlock the agent's key \"{agent.Name}\": pass --passphrase-file FILE or set {PassphraseSource.EnvironmentVariable}, or run this on a terminal"),
                "pin" => pkcs11.Pin(parse, Pkcs11Options.ParseUri(agent.KeySource), console)
                    .GetPassphrase(new PassphraseRequest(agent.Name, agent.KeySource, PassphrasePurpose.TokenPin))
                    ?? throw new SignetException($"no PIN to unlock the agent's key {agent.KeySource}: pass --pin-file FILE or set {Pkcs11Module.PinEnvironmentVariable}, or run this on a terminal"),
                _ => null,
            };
            agent.Call(AgentProtocol.Request("unlock", w =>
            {
                if (secret is not null)
                {
                    w.WriteString("secret", secret);
                }
            }));
            console.Out.WriteLine($"agent at {agent.SocketPath} unlocked ({agent.Name}, {agent.PublicKey})");
            return SignetCli.Ok;
        });
        return command;
    }

    private static Command Status(CliConsole console)
    {
        var home = CommonOptions.Home();
        var socket = SocketOption(null);
        var json = CommonOptions.Json();
        var command = new Command("status", "Show the agent's key, whether it is locked, and how many signatures it made")
        {
            socket, home, json,
        };
        command.SetAction(parse =>
        {
            using var agent = Connect(parse.GetValue(socket), parse.GetValue(home), console);
            var status = agent.Call(AgentProtocol.Request("status"));
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(status.GetRawText());
                return SignetCli.Ok;
            }
            var locked = status.GetProperty("locked").GetBoolean();
            console.Out.WriteLine($"agent:      {agent.SocketPath} (pid {status.GetProperty("pid")})");
            console.Out.WriteLine($"key:        {agent.Name} {agent.PublicKey}");
            console.Out.WriteLine($"held:       {status.GetProperty("description").GetString()}");
            console.Out.WriteLine($"state:      {(locked ? "locked (signet agent unlock)" : "unlocked")}");
            console.Out.WriteLine($"signatures: {status.GetProperty("signatures")} made, {status.GetProperty("refusals")} refused since {status.GetProperty("started_at").GetString()}");
            console.Out.WriteLine($"serves uid: {string.Join(", ", status.GetProperty("allowed_uids").EnumerateArray().Select(u => u.ToString()))}");
            return SignetCli.Ok;
        });
        return command;
    }

    private static Option<string?> SocketOption(string? description) => new("--socket")
    {
        HelpName = "PATH",
        Description = description ?? $"The agent's socket (default: ${AgentProtocol.SocketEnvironmentVariable}, else $XDG_RUNTIME_DIR/signet/agent.sock, else HOME/agent.sock)",
    };

    private static AgentSigner Connect(string? socket, string? home, CliConsole console) =>
        AgentSigner.Connect(ResolveSocket(socket, CommonOptions.ResolveHome(home, console), console, forServer: false));

    /// <summary>
    /// The socket: the option, else (for a client) <c>SIGNET_AGENT_SOCK</c>, else <c>$XDG_RUNTIME_DIR/signet/agent.sock</c>
    /// (a per-user tmpfs folder that only the user can enter), else <c>HOME/agent.sock</c>.
    /// </summary>
    internal static string ResolveSocket(string? option, string home, CliConsole console, bool forServer)
    {
        var path = option;
        if (string.IsNullOrEmpty(path) && !forServer)
        {
            path = console.GetEnvironmentVariable(AgentProtocol.SocketEnvironmentVariable);
        }
        if (string.IsNullOrEmpty(path))
        {
            var runtime = console.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            path = string.IsNullOrEmpty(runtime) ? Path.Combine(home, "agent.sock") : Path.Combine(runtime, "signet", "agent.sock");
        }
        return Path.GetFullPath(path, console.WorkingDirectory);
    }

    /// <summary>The path as one shell word: as it is when it holds only safe characters, else single-quoted.</summary>
    internal static string ShellQuote(string path) =>
        path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or ':' or ',' or '@')
            ? path
            : "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
