using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Keys;
using Signet.Cli.Config;

namespace Signet.Cli.Commands;

/// <summary><c>signet wrap</c> and <c>signet unwrap</c>: route a client config's servers through <c>signet proxy</c>, and back.</summary>
internal static class WrapCommands
{
    public static Command CreateWrap(CliConsole console)
    {
        var config = ConfigArgument();
        var client = ClientOption();
        var servers = ServerOption("Wrap only this server (repeatable; default: every server)");
        var dryRun = DryRunOption();
        var list = new Option<bool>("--list") { Description = "List the client configs found on this machine and which servers are wrapped" };
        var json = CommonOptions.Json();
        var signetCommand = new Option<string?>("--signet-command")
        {
            Description = "The signet command to write into the config (default: the installed tool, else this executable)",
        };
        var key = new Option<string?>("--key") { Description = "Proxy option: the key that signs (default: $SIGNET_KEY in the entry's env, else 'default')" };
        var agent = new Option<string?>("--agent")
        {
            HelpName = "SOCKET",
            Description = "Proxy option: sign through the signer agent on SOCKET (written as an absolute path); no key, passphrase or PIN in the config",
        };
        var signer = new Option<string?>("--signer")
        {
            Description = "Proxy option: the agent's name signed into receipts (default: the key's name); the target is always mcp://<server name>",
        };
        var storePassphrase = new Option<bool>("--store-passphrase")
        {
            Description = "Write $SIGNET_PASSPHRASE from this environment into the env of each server wrapped now (the config becomes 0600; unwrap removes it)",
        };
        var home = CommonOptions.Home();
        home.Description = "Proxy option: the Signet home the proxy uses (written as an absolute path)";
        var durability = new Option<string?>("--durability") { Description = "Proxy option: durable (fsync before forwarding) or fast" };
        durability.AcceptOnlyFromAmong("durable", "fast");
        var failOpen = new Option<bool>("--fail-open") { Description = "Proxy option: forward calls even when a receipt cannot be written" };
        var target = new Option<string?>("--target") { Description = "Proxy option: the target URI recorded in receipts (default: mcp://<server name>, per server)" };
        var metaKey = new Option<string?>("--meta-key") { Description = "Proxy option: where the receipt goes in params._meta" };
        var passphraseFile = new Option<string?>("--passphrase-file")
        {
            Description = "Proxy option: a file holding the key's passphrase (written as an absolute path)",
        };
        var proxyArgs = new Option<string[]>("--proxy-arg")
        {
            Description = "Any other proxy argument, written as given (repeatable)",
        };

        var command = new Command("wrap", "Rewrite an MCP client config so each server runs through 'signet proxy' (undo with 'signet unwrap')")
        {
            config, client, servers, dryRun, list, json, signetCommand, key, agent, signer, home, durability, failOpen, target, metaKey, passphraseFile,
            storePassphrase, proxyArgs,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(list))
            {
                if (parse.GetValue(config) is not null)
                {
                    throw new CliUsageException("--list takes no config file; it scans the known locations");
                }
                return await ListAsync(console, parse.GetValue(json));
            }

            if (parse.GetValue(json))
            {
                throw new CliUsageException("--json goes with --list");
            }

            var proxyOptions = new List<string>();
            if (parse.GetValue(key) is { } k)
            {
                proxyOptions.AddRange(["--key", k]);
            }
            if (parse.GetValue(agent) is { } socket)
            {
                proxyOptions.AddRange(["--agent", Path.GetFullPath(socket, console.WorkingDirectory)]);
            }
            if (parse.GetValue(home) is { } h)
            {
                proxyOptions.AddRange(["--home", Path.GetFullPath(h, console.WorkingDirectory)]);
            }
            if (parse.GetValue(durability) is { } d)
            {
                proxyOptions.AddRange(["--durability", d]);
            }
            if (parse.GetValue(failOpen))
            {
                proxyOptions.Add("--fail-open");
            }
            if (parse.GetValue(target) is { } t)
            {
                proxyOptions.AddRange(["--target", t]);
            }
            if (parse.GetValue(metaKey) is { } m)
            {
                proxyOptions.AddRange(["--meta-key", m]);
            }
            if (parse.GetValue(passphraseFile) is { } pf)
            {
                proxyOptions.AddRange(["--passphrase-file", Path.GetFullPath(pf, console.WorkingDirectory)]);
            }
            proxyOptions.AddRange(parse.GetValue(proxyArgs) ?? []);
            if (proxyOptions.Contains("--"))
            {
                throw new CliUsageException("--proxy-arg cannot be '--'; wrap writes the separator itself");
            }

            var explicitCommand = parse.GetValue(signetCommand) is { } sc && (sc.Contains('/') || sc.Contains('\\'))
                ? Path.GetFullPath(sc, console.WorkingDirectory)
                : parse.GetValue(signetCommand);
            var launcher = SignetLauncher.ResolveForConfig(explicitCommand, console.GetEnvironmentVariable("PATH"),
                Environment.ProcessPath, SignetLauncher.RunningSignetDll());
            string? passphrase = null;
            if (parse.GetValue(storePassphrase))
            {
                passphrase = console.GetEnvironmentVariable(PassphraseSource.EnvironmentVariable);
                if (string.IsNullOrEmpty(passphrase))
                {
                    throw new CliUsageException($"--store-passphrase writes ${PassphraseSource.EnvironmentVariable} into the config, but it is not set here");
                }
            }
            var selection = Selection(parse.GetValue(servers));
            var options = new McpWrapOptions
            {
                Launcher = launcher,
                SignerName = parse.GetValue(signer),
                ProxyOptions = proxyOptions,
                Servers = selection,
                Passphrase = passphrase,
            };
            return await RewriteAsync(console, parse.GetValue(config), parse.GetValue(client), selection, parse.GetValue(dryRun),
                (bytes, c) => McpConfigRewriter.Wrap(bytes, c, options), "wrap", proxyOptions, passphrase is not null);
        });
        return command;
    }

    public static Command CreateUnwrap(CliConsole console)
    {
        var config = ConfigArgument();
        var client = ClientOption();
        var servers = ServerOption("Unwrap only this server (repeatable; default: every wrapped server)");
        var dryRun = DryRunOption();
        var command = new Command("unwrap", "Restore the servers of a config that 'signet wrap' rewrote to their original entries")
        {
            config, client, servers, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            var selection = Selection(parse.GetValue(servers));
            return await RewriteAsync(console, parse.GetValue(config), parse.GetValue(client), selection, parse.GetValue(dryRun),
                (bytes, c) => McpConfigRewriter.Unwrap(bytes, c, selection), "unwrap");
        });
        return command;
    }

    private static async Task<int> RewriteAsync(CliConsole console, string? configPath, string? clientName, IReadOnlySet<string>? selection,
        bool dryRun, Func<byte[], McpClientApp, McpConfigRewrite> rewrite, string verb, IReadOnlyList<string>? proxyOptions = null, bool holdsSecret = false)
    {
        if (configPath is null)
        {
            throw new CliUsageException($"name the config file to {verb} (see 'signet wrap --list' for the ones found on this machine)");
        }
        var path = Path.GetFullPath(configPath, console.WorkingDirectory);
        var bytes = McpConfigFile.Read(path);
        McpClientApp client;
        McpConfigRewrite result;
        try
        {
            client = clientName is null ? McpClientApps.Detect(path, bytes) : ParseClient(clientName);
            result = rewrite(bytes, client);
        }
        catch (McpConfigException e)
        {
            throw e.WithFile(path);
        }

        if (selection is not null)
        {
            var missing = selection.Where(s => result.Servers.All(r => r.Name != s)).ToList();
            if (missing.Count > 0)
            {
                var known = result.Servers.Select(r => r.Name).Distinct().ToList();
                throw new CliUsageException($"no server named {string.Join(", ", missing.Select(n => $"'{n}'"))} in {path} " +
                    $"(its servers: {(known.Count == 0 ? "none" : string.Join(", ", known))})");
            }
        }

        await console.Out.WriteLineAsync($"{path} ({McpClientApps.Name(client)})");
        if (result.Servers.Count == 0)
        {
            await console.Out.WriteLineAsync($"  no servers under \"{McpClientApps.ServersKey(client)}\"");
        }
        var nested = result.Servers.Any(s => s.Location != McpClientApps.ServersKey(client));
        foreach (var server in result.Servers)
        {
            var name = nested ? $"{server.Location}.{server.Name}" : server.Name;
            var detail = server.Detail is null ? "" : $" ({server.Detail})";
            await console.Out.WriteLineAsync($"  {Describe(server.Action, dryRun),-16} {name}{detail}");
        }

        if (verb == "wrap")
        {
            await WarnAboutKeysAsync(console, path, result, proxyOptions ?? [], holdsSecret);
        }

        if (!result.Changed)
        {
            await console.Out.WriteLineAsync("No change; the file was not written.");
            return SignetCli.Ok;
        }
        if (dryRun)
        {
            await console.Out.WriteLineAsync();
            await console.Out.WriteAsync(UnifiedDiff.Create(Text(result.Original), Text(result.Result), path, path + $" ({verb}ped)"));
            await console.Out.WriteLineAsync("Dry run: nothing was written.");
            return SignetCli.Ok;
        }

        string backup;
        try
        {
            backup = McpConfigFile.Replace(path, result.Original, result.Result, console.Time, holdsSecret);
        }
        catch (McpConfigException e) when (e.File is null)
        {
            throw e.WithFile(path);
        }
        await console.Out.WriteLineAsync($"Backup: {backup}");
        await console.Out.WriteLineAsync(verb == "wrap"
            ? "Restart the client to use the change. Undo with: signet unwrap " + Quote(path)
            : "Restart the client to use the change.");
        return SignetCli.Ok;
    }

    private static async Task<int> ListAsync(CliConsole console, bool json)
    {
        var home = console.GetEnvironmentVariable(OperatingSystem.IsWindows() ? "USERPROFILE" : "HOME") is { Length: > 0 } h
            ? h
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var found = McpConfigLocations.Find(home, console.WorkingDirectory, McpConfigLocations.CurrentOs, console.GetEnvironmentVariable);
        var files = new JsonArray();
        var text = new StringBuilder();
        foreach (var location in found)
        {
            text.Append($"{location.Path} ({McpClientApps.Name(location.Client)}, {location.Scope})\n");
            var file = new JsonObject { ["path"] = location.Path, ["client"] = McpClientApps.Name(location.Client), ["scope"] = location.Scope };
            files.Add((JsonNode)file);
            try
            {
                var servers = McpConfigRewriter.Inspect(McpConfigFile.Read(location.Path), location.Client);
                var entries = new JsonArray();
                file["servers"] = entries;
                if (servers.Count == 0)
                {
                    text.Append("  no servers\n");
                }
                var nested = servers.Any(s => s.Location != McpClientApps.ServersKey(location.Client));
                foreach (var server in servers)
                {
                    var state = server.State switch
                    {
                        McpServerState.Wrapped => "wrapped",
                        McpServerState.NotWrapped => "not wrapped",
                        _ => "unsupported",
                    };
                    var name = nested ? $"{server.Location}.{server.Name}" : server.Name;
                    text.Append($"  {state,-12} {name}  {server.Summary}\n");
                    entries.Add((JsonNode)new JsonObject
                    {
                        ["location"] = server.Location,
                        ["name"] = server.Name,
                        ["state"] = state,
                        ["summary"] = server.Summary,
                    });
                }
            }
            catch (McpConfigException e)
            {
                var error = e.WithFile(location.Path).Message;
                text.Append($"  error: {error}\n");
                file["error"] = error;
            }
        }

        if (json)
        {
            await console.Out.WriteLineAsync(files.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return SignetCli.Ok;
        }
        if (found.Count == 0)
        {
            text.Append("No MCP client configs found. Looked in:\n");
            foreach (var candidate in McpConfigLocations.Candidates(home, console.WorkingDirectory, McpConfigLocations.CurrentOs, console.GetEnvironmentVariable))
            {
                text.Append($"  {candidate.Path} ({McpClientApps.Name(candidate.Client)})\n");
            }
        }
        await console.Out.WriteAsync(text.ToString());
        return SignetCli.Ok;
    }

    /// <summary>
    /// Says, before a client tries, when the wrapped servers cannot start: the key they sign with does not exist, or it
    /// is encrypted and nothing gives the proxy its passphrase (the client owns stdin, so there is no prompt).
    /// </summary>
    private static async Task WarnAboutKeysAsync(CliConsole console, string path, McpConfigRewrite result, IReadOnlyList<string> proxyOptions,
        bool passphraseStored)
    {
        var defaultHome = CommonOptions.ResolveHome(null, console);
        var groups = new Dictionary<(string Home, string Key), List<(string Name, bool HasPassphrase, bool HasPin)>>();
        foreach (var server in result.Servers)
        {
            if (server.Action is not (McpServerAction.Wrapped or McpServerAction.Updated or McpServerAction.AlreadyWrapped))
            {
                continue;
            }
            // Newly wrapped servers get this run's proxy options; wrapped ones keep the options already in their args.
            var args = server.Action == McpServerAction.Wrapped ? proxyOptions : server.Arguments;
            var env = server.Environment;
            if (OptionValue(args, "--agent") is not null || env.GetValueOrDefault(AgentProtocol.SocketEnvironmentVariable) is { Length: > 0 })
            {
                continue; // signs through an agent: no key, passphrase or PIN to look for here
            }
            var keyName = OptionValue(args, "--key")
                ?? (env.GetValueOrDefault(KeyOptions.KeyEnvironmentVariable) is { Length: > 0 } k ? k : KeyOptions.DefaultKeyName);
            var home = OptionValue(args, "--home") ?? (env.GetValueOrDefault("SIGNET_HOME") is { Length: > 0 } h ? h : defaultHome);
            var hasPassphrase = OptionValue(args, "--passphrase-file") is not null
                || env.GetValueOrDefault(PassphraseSource.EnvironmentVariable) is { Length: > 0 }
                || (passphraseStored && server.Action == McpServerAction.Wrapped);
            var hasPin = OptionValue(args, "--pin-file") is not null
                || env.GetValueOrDefault(Pkcs11.Pkcs11Module.PinEnvironmentVariable) is { Length: > 0 }
                || keyName.Contains("pin-source=", StringComparison.Ordinal);
            if (!groups.TryGetValue((home, keyName), out var list))
            {
                groups[(home, keyName)] = list = [];
            }
            list.Add((server.Name, hasPassphrase, hasPin));
        }

        foreach (var ((home, keyName), list) in groups)
        {
            var names = string.Join(", ", list.Select(s => s.Name).Distinct());
            if (Pkcs11.Pkcs11Uri.IsUri(keyName))
            {
                // A token key has no file to look for; without a PIN source the proxy cannot log in to the token.
                var noPin = list.Where(s => !s.HasPin).Select(s => s.Name).Distinct().ToList();
                if (noPin.Count > 0)
                {
                    await console.Error.WriteLineAsync(
                        $"warning: {string.Join(", ", noPin)} sign with the PKCS#11 key {keyName} but {(noPin.Count == 1 ? "has" : "have")} no PIN for its token " +
                        $"(the client starts the proxy without a terminal), so they will fail to start. Add \"env\": {{ \"{Pkcs11.Pkcs11Module.PinEnvironmentVariable}\": \"<PIN>\" }} " +
                        "to each entry, or put \"--pin-file\", \"/path/to/file\" in its \"args\" before \"--\"");
                }
                continue;
            }
            var homeArgument = home == defaultHome ? "" : " --home " + Quote(home);
            var store = KeyStore.ForHome(home, console.Time);
            bool encrypted;
            try
            {
                if (!store.Exists(keyName))
                {
                    await console.Error.WriteLineAsync(
                        $"warning: there is no key \"{keyName}\" in {store.Directory}, so {names} will fail to start. Create it with: signet key new {keyName}{homeArgument}");
                    continue;
                }
                encrypted = store.Describe(keyName).Encrypted;
            }
            catch (KeyStoreException e)
            {
                await console.Error.WriteLineAsync($"warning: {names} will fail to start: {e.Message}");
                continue;
            }
            var locked = list.Where(s => !s.HasPassphrase).Select(s => s.Name).Distinct().ToList();
            if (encrypted && locked.Count > 0)
            {
                await console.Error.WriteLineAsync(
                    $"warning: key \"{keyName}\" is encrypted and {string.Join(", ", locked)} {(locked.Count == 1 ? "has" : "have")} no passphrase for it " +
                    "(the client starts the proxy without a terminal), so they will fail to start. Add " +
                    $"\"env\": {{ \"{PassphraseSource.EnvironmentVariable}\": \"<passphrase>\" }} to each entry, or run: signet unwrap {Quote(path)}, then " +
                    $"{PassphraseSource.EnvironmentVariable}=<passphrase> signet wrap {Quote(path)} --store-passphrase (or --passphrase-file FILE){homeArgument}");
            }
        }
    }

    // The value of a proxy option in an argument list, up to the "--" separator.
    private static string? OptionValue(IReadOnlyList<string> args, string option)
    {
        for (var i = 0; i < args.Count - 1 && args[i] != "--"; i++)
        {
            if (args[i] == option)
            {
                return args[i + 1];
            }
        }
        return null;
    }

    private static string Describe(McpServerAction action, bool dryRun) => (action, dryRun) switch
    {
        (McpServerAction.Wrapped, false) => "wrapped",
        (McpServerAction.Wrapped, true) => "would wrap",
        (McpServerAction.Unwrapped, false) => "unwrapped",
        (McpServerAction.Unwrapped, true) => "would unwrap",
        (McpServerAction.AlreadyWrapped, _) => "already wrapped",
        (McpServerAction.Updated, false) => "updated",
        (McpServerAction.Updated, true) => "would update",
        (McpServerAction.NotWrapped, _) => "not wrapped",
        (McpServerAction.NotSelected, _) => "not selected",
        _ => "unsupported",
    };

    private static McpClientApp ParseClient(string name) => McpClientApps.Parse(name)
        ?? throw new CliUsageException($"unknown client '{name}'; use one of {string.Join(", ", McpClientApps.Names)}");

    private static IReadOnlySet<string>? Selection(string[]? names) => names is { Length: > 0 } ? names.ToHashSet(StringComparer.Ordinal) : null;

    private static string Text(byte[] utf8) => Encoding.UTF8.GetString(utf8);

    private static string Quote(string path) => path.Contains(' ', StringComparison.Ordinal) ? $"\"{path}\"" : path;

    private static Argument<string?> ConfigArgument() => new("config")
    {
        Description = "The client config file (claude_desktop_config.json, .mcp.json, mcp.json, settings.json, ~/.claude.json)",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static Option<string?> ClientOption()
    {
        var option = new Option<string?>("--client")
        {
            Description = $"The client whose format the file has ({string.Join(", ", McpClientApps.Names)}; default: detected from the file)",
        };
        return option;
    }

    private static Option<string[]> ServerOption(string description) => new("--server") { Description = description };

    private static Option<bool> DryRunOption() => new("--dry-run") { Description = "Print the change as a diff and write nothing" };
}
