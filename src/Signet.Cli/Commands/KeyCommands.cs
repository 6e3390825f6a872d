using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Cli.Pkcs11;
using Signet.Keys;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet key new | import | list | show</c>: the key files under HOME/keys, in the reference Signet's formats, and
/// keys in PKCS#11 tokens (<c>--pkcs11 URI</c>).
/// </summary>
internal static class KeyCommands
{
    private static readonly JsonSerializerOptions JsonOutput = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Create(CliConsole console)
    {
        var command = new Command("key", "Create, list and show Ed25519 signing keys");
        command.Subcommands.Add(New(console));
        command.Subcommands.Add(Import(console));
        command.Subcommands.Add(List(console));
        command.Subcommands.Add(Show(console));
        return command;
    }

    private static Command New(CliConsole console)
    {
        var name = new Argument<string?>("NAME") { Description = "Key name: letters, digits, '_' and '-' (none with --pkcs11)", Arity = ArgumentArity.ZeroOrOne };
        var owner = new Option<string?>("--owner") { HelpName = "OWNER", Description = "Owner recorded with the public key and in receipts (signer.owner)" };
        var unencrypted = new Option<bool>("--unencrypted")
        {
            Description = "Store the secret key without a passphrase (protected only by the file mode 0600)",
        };
        var passphraseFile = Passphrases.FileOption();
        var home = CommonOptions.Home();
        var pkcs11 = Pkcs11UriOption("Generate the key in a PKCS#11 token instead, non-extractable: pkcs11:token=…;object=LABEL");
        var pkcs11Options = new Pkcs11Options();
        var command = new Command("new", "Create a key (encrypted with a passphrase unless --unencrypted, or in a PKCS#11 token) and print its public key")
        {
            name, owner, unencrypted, passphraseFile, home, pkcs11,
        };
        pkcs11Options.AddTo(command);
        command.SetAction(parse =>
        {
            if (parse.GetValue(pkcs11) is { } uriText)
            {
                if (parse.GetValue(name) is not null || parse.GetValue(owner) is not null || parse.GetValue(unencrypted) || parse.GetValue(passphraseFile) is not null)
                {
                    throw new CliUsageException("--pkcs11 names the key by its URI: give no NAME, --owner, --unencrypted or --passphrase-file with it");
                }
                var uri = Pkcs11Options.ParseUri(uriText);
                var made = Pkcs11Keys.Generate(pkcs11Options.ModulePath(parse, uri, console), uri, pkcs11Options.Pin(parse, uri, console), RandomSource.Cryptographic);
                console.Out.WriteLine(made.Text);
                console.Error.WriteLine($"Created key \"{uri.Object}\" in the PKCS#11 token (non-extractable); sign with --key {uri.Text}");
                return SignetCli.Ok;
            }
            var keyName = parse.GetValue(name)
                ?? throw new CliUsageException("give the new key's NAME (or --pkcs11 URI to create it in a token)");
            if (!KeyStore.IsValidName(keyName))
            {
                throw new CliUsageException($"invalid key name \"{keyName}\": use only letters, digits, '_' and '-' (for example agent-1)");
            }
            var file = parse.GetValue(passphraseFile);
            var plain = parse.GetValue(unencrypted);
            if (plain && file is not null)
            {
                throw new CliUsageException("--unencrypted and --passphrase-file cannot be used together");
            }
            if (!plain && !Passphrases.AnyAvailable(console, file))
            {
                // A missing passphrase is a runtime condition (exit 1), as when a command cannot unlock a key.
                throw new SignetException(
                    $"no passphrase for the new key and no terminal to ask for one: set {PassphraseSource.EnvironmentVariable}, " +
                    "pass --passphrase-file FILE, or pass --unencrypted to store the key without a passphrase");
            }

            var store = KeyStore.ForHome(CommonOptions.ResolveHome(parse.GetValue(home), console), console.Time);
            var info = plain
                ? store.CreateUnencrypted(keyName, parse.GetValue(owner))
                : store.CreateEncrypted(keyName, Passphrases.For(console, file), parse.GetValue(owner));
            console.Out.WriteLine(info.PublicKey.Text);
            console.Error.WriteLine($"Created key \"{info.Name}\" ({(info.Encrypted ? "encrypted" : "unencrypted")}) in {info.KeyFile}");
            return SignetCli.Ok;
        });
        return command;
    }

    private static Command Import(CliConsole console)
    {
        var name = new Argument<string>("NAME") { Description = "The key file in HOME/keys to copy into the token" };
        var pkcs11 = Pkcs11UriOption("The token and label to create: pkcs11:token=…;object=LABEL");
        pkcs11.Required = true;
        var passphraseFile = Passphrases.FileOption();
        var home = CommonOptions.Home();
        var pkcs11Options = new Pkcs11Options();
        var command = new Command("import", "Copy a key file's key into a PKCS#11 token (non-extractable there) and print its public key")
        {
            name, pkcs11, passphraseFile, home,
        };
        pkcs11Options.AddTo(command);
        command.SetAction(parse =>
        {
            var keyName = parse.GetValue(name)!;
            if (!KeyStore.IsValidName(keyName))
            {
                throw new CliUsageException($"invalid key name \"{keyName}\": use only letters, digits, '_' and '-'");
            }
            var uri = Pkcs11Options.ParseUri(parse.GetValue(pkcs11)!);
            var module = pkcs11Options.ModulePath(parse, uri, console);
            var store = KeyStore.ForHome(CommonOptions.ResolveHome(parse.GetValue(home), console), console.Time);
            using var loaded = store.Load(keyName, Passphrases.For(console, parse.GetValue(passphraseFile)));
            var made = Pkcs11Keys.Import(module, uri, pkcs11Options.Pin(parse, uri, console), loaded.Key, RandomSource.Cryptographic);
            var info = store.Describe(keyName);
            console.Out.WriteLine(made.Text);
            console.Error.WriteLine($"Copied key \"{keyName}\" into the PKCS#11 token as \"{uri.Object}\" (non-extractable); sign with --key {uri.Text}");
            console.Error.WriteLine(
                $"The key file still exists and can still sign: {info.KeyFile}. Once you have switched to the token, delete it " +
                $"(shred -u {info.KeyFile}, or rm) and keep the public key file {Path.ChangeExtension(info.KeyFile, ".pub")}.");
            return SignetCli.Ok;
        });
        return command;
    }

    private static Option<string?> Pkcs11UriOption(string description) => new("--pkcs11") { HelpName = "URI", Description = description };

    private static Command List(CliConsole console)
    {
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();
        var command = new Command("list", "List the keys: name, public key, owner, encrypted or not, creation time") { json, home };
        command.SetAction(parse =>
        {
            var store = KeyStore.ForHome(CommonOptions.ResolveHome(parse.GetValue(home), console), console.Time);
            var entries = store.List();
            if (parse.GetValue(json))
            {
                var array = new JsonArray([.. entries.Select(e => e.Info is { } info ? (JsonNode)ToJson(info) : new JsonObject { ["name"] = e.Name, ["error"] = e.Problem })]);
                console.Out.WriteLine(array.ToJsonString(JsonOutput));
                return SignetCli.Ok;
            }
            if (entries.Count == 0)
            {
                console.Error.WriteLine($"No keys in {store.Directory}; create one with 'signet key new NAME'.");
                return SignetCli.Ok;
            }
            var rows = entries.Select(e => e.Info is { } info
                ? new[] { e.Name, info.Encrypted ? "yes" : "no", info.Owner, info.CreatedAt ?? "", info.PublicKey.Text }
                : [e.Name, "?", "", "", "error: " + e.Problem]).ToList();
            WriteTable(console.Out, ["NAME", "ENCRYPTED", "OWNER", "CREATED", "PUBLIC KEY"], rows);
            return SignetCli.Ok;
        });
        return command;
    }

    private static Command Show(CliConsole console)
    {
        var name = new Argument<string>("NAME") { Description = "Key name, or a PKCS#11 URI pkcs11:token=…;object=…" };
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();
        var pkcs11Options = new Pkcs11Options();
        var command = new Command("show", "Print a key's public key (ed25519:<base64>), or all its details with --json") { name, json, home };
        pkcs11Options.AddTo(command);
        command.SetAction(parse =>
        {
            var keyName = parse.GetValue(name)!;
            if (Pkcs11Uri.IsUri(keyName))
            {
                var uri = Pkcs11Options.ParseUri(keyName);
                // The public key object is readable without the PIN; a token that hides it until login gets the PIN.
                if (Pkcs11Keys.ReadPublicKey(pkcs11Options.ModulePath(parse, uri, console), uri) is var (publicKey, location))
                {
                    console.Out.WriteLine(parse.GetValue(json)
                        ? ShowJson(uri.SignerName, publicKey, uri, location).ToJsonString(JsonOutput)
                        : publicKey.Text);
                    return SignetCli.Ok;
                }
                using var key = pkcs11Options.Load(parse, uri, console);
                console.Out.WriteLine(parse.GetValue(json)
                    ? ShowJson(key.Name, key.PublicKey, uri, key.Signer.Description).ToJsonString(JsonOutput)
                    : key.PublicKey.Text);
                return SignetCli.Ok;
            }
            if (!KeyStore.IsValidName(keyName))
            {
                throw new CliUsageException($"invalid key name \"{keyName}\": use only letters, digits, '_' and '-'");
            }
            var store = KeyStore.ForHome(CommonOptions.ResolveHome(parse.GetValue(home), console), console.Time);
            var info = store.Describe(keyName);
            console.Out.WriteLine(parse.GetValue(json) ? ToJson(info).ToJsonString(JsonOutput) : info.PublicKey.Text);
            return SignetCli.Ok;
        });
        return command;
    }

    private static JsonObject ShowJson(string name, PublicKey publicKey, Pkcs11Uri uri, string location) => new()
    {
        ["name"] = name,
        ["pubkey"] = publicKey.Text,
        ["pkcs11_uri"] = uri.Text,
        ["location"] = location,
    };

    private static JsonObject ToJson(KeyInfo info) => new()
    {
        ["name"] = info.Name,
        ["pubkey"] = info.PublicKey.Text,
        ["owner"] = info.Owner,
        ["encrypted"] = info.Encrypted,
        ["created_at"] = info.CreatedAt,
        ["key_file"] = info.KeyFile,
    };

    private static void WriteTable(TextWriter output, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Prepend(h.Length).Max()).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            var cells = row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]));
            output.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }
}
