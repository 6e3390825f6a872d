using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Signet.Keys;
using Signet.Receipts;
using Signet.Trust;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet trust add | list | inspect | revoke | disable | rotate</c>: the trust bundle (the reference Signet's
/// format) that <c>verify</c>, <c>log verify</c> and server verifiers judge keys by (docs/trust.md).
/// </summary>
internal static class TrustCommands
{
    /// <summary>The bundle file in the home when <c>--bundle</c> is not given.</summary>
    public const string DefaultFileName = "trust.json";

    public static Command Create(CliConsole console)
    {
        var command = new Command("trust", "Manage the trust bundle: the keys verifiers trust, revocations with a time, rotations announced in the log");
        command.Subcommands.Add(Add(console));
        command.Subcommands.Add(List(console));
        command.Subcommands.Add(Inspect(console));
        command.Subcommands.Add(End(console, revoke: true));
        command.Subcommands.Add(End(console, revoke: false));
        command.Subcommands.Add(Rotate(console));
        return command;
    }

    private sealed class BundleOptions
    {
        public Option<string?> Bundle { get; } = new("--bundle") { HelpName = "FILE", Description = $"The trust bundle (default: HOME/{DefaultFileName})" };
        public Option<string?> Home { get; } = CommonOptions.Home();

        public void AddTo(Command command)
        {
            command.Options.Add(Bundle);
            command.Options.Add(Home);
        }

        public string Path(ParseResult parse, CliConsole console) =>
            parse.GetValue(Bundle) is { } file
                ? System.IO.Path.GetFullPath(file, console.WorkingDirectory)
                : System.IO.Path.Combine(CommonOptions.ResolveHome(parse.GetValue(Home), console), DefaultFileName);
    }

    private static Option<string> SectionOption(string description) => new("--section")
    {
        HelpName = "roots|agents|servers",
        Description = description,
        DefaultValueFactory = _ => "agents",
    };

    private static Option<string?> OutputOption() => new("--output") { HelpName = "FILE", Description = "Write the changed bundle here instead of in place" };

    private static Command Add(CliConsole console)
    {
        var files = new BundleOptions();
        var section = SectionOption("The section to add the key to (default agents)");
        var id = new Option<string>("--id") { Description = "The entry's id, unique in its section", Required = true };
        var pubkey = new Option<string>("--pubkey") { Description = "The key: ed25519:<base64>, bare base64, or a .pub file", Required = true };
        var name = new Option<string?>("--name") { Description = "A display name (default: the id)" };
        var owner = new Option<string?>("--owner") { Description = "Who is responsible for the key (default: empty)" };
        var expires = new Option<string?>("--expires-at") { HelpName = "TIME", Description = "Receipts signed at or after this UTC time are not trusted" };
        var comment = new Option<string?>("--comment") { Description = "A comment" };
        var org = new Option<string>("--org") { Description = "For a new bundle: the organisation", DefaultValueFactory = _ => "local" };
        var env = new Option<string>("--env") { Description = "For a new bundle: the environment (lowercase, digits, _ and -)", DefaultValueFactory = _ => "default" };
        var bundleId = new Option<string?>("--bundle-id") { Description = "For a new bundle: its id (default: tb_ + random hex)" };
        var output = OutputOption();
        var command = new Command("add", "Add a trusted key (creates the bundle when it does not exist)")
        {
            section, id, pubkey, name, owner, expires, comment, org, env, bundleId, output,
        };
        files.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = files.Path(parse, console);
            var now = console.Time.GetUtcNow();
            TrustBundle bundle;
            if (File.Exists(path))
            {
                bundle = TrustBundle.Load(path);
            }
            else
            {
                var envText = parse.GetValue(env)!;
                if (!TrustBundle.IsValidEnv(envText))
                {
                    throw new CliUsageException($"--env {envText}: use lowercase letters, digits, '_' and '-', starting with a letter or digit, at most 32 characters");
                }
                bundle = new TrustBundle
                {
                    BundleId = parse.GetValue(bundleId) ?? "tb_" + Convert.ToHexStringLower(RandomBytes(8)),
                    Org = parse.GetValue(org)!,
                    Env = envText,
                    GeneratedAt = now,
                };
                await console.Error.WriteLineAsync($"signet: creating the trust bundle {path}");
            }
            var which = ParseSection(parse.GetValue(section)!);
            var key = TrustedKeys.ParseKeyArgument(parse.GetValue(pubkey)!);
            var entry = new TrustEntry
            {
                Id = parse.GetValue(id)!,
                Name = parse.GetValue(name) ?? parse.GetValue(id)!,
                Owner = parse.GetValue(owner) ?? "",
                PublicKey = key,
                CreatedAt = now,
                ExpiresAt = parse.GetValue(expires) is { } e ? ParseTime(e, "--expires-at", console) : null,
                Comment = parse.GetValue(comment),
            };
            bundle = bundle.WithEntry(which, entry) with { GeneratedAt = now };
            var target = Target(parse, output, path, console);
            bundle.Save(target);
            await console.Out.WriteLineAsync($"added {TrustBundle.SectionName(which)}/{entry.Id} {key} to {target}");
            return SignetCli.Ok;
        });
        return command;
    }

    private static Command List(CliConsole console)
    {
        var files = new BundleOptions();
        var section = new Option<string?>("--section") { HelpName = "roots|agents|servers", Description = "Only this section" };
        var activeOnly = new Option<bool>("--active-only") { Description = "Only keys trusted at --at (default: now)" };
        var at = new Option<string?>("--at") { HelpName = "TIME", Description = "Judge trust at this UTC time (default: now)" };
        var json = CommonOptions.Json();
        var command = new Command("list", "List the bundle's keys and whether each is trusted at a time") { section, activeOnly, at, json };
        files.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var bundle = TrustBundle.Load(files.Path(parse, console));
            var when = parse.GetValue(at) is { } a ? ParseTime(a, "--at", console) : console.Time.GetUtcNow();
            var sections = parse.GetValue(section) is { } s ? [ParseSection(s)] : (TrustSection[])[TrustSection.Roots, TrustSection.Agents, TrustSection.Servers];
            var rows = sections.SelectMany(sec => bundle.Section(sec).Select(e => (Section: sec, Entry: e, Trusted: e.IsTrustedAt(when))))
                .Where(r => !parse.GetValue(activeOnly) || r.Trusted).ToList();
            if (parse.GetValue(json))
            {
                var array = new JsonArray();
                foreach (var (sec, e, trusted) in rows)
                {
                    array.Add((JsonNode)new JsonObject
                    {
                        ["section"] = TrustBundle.SectionName(sec),
                        ["id"] = e.Id,
                        ["name"] = e.Name,
                        ["owner"] = e.Owner,
                        ["pubkey"] = e.PublicKey.Text,
                        ["status"] = TrustBundle.StatusName(e.Status),
                        ["trusted"] = trusted,
                        ["trusted_until"] = e.TrustedUntil is { } u && u != DateTimeOffset.MinValue ? TrustBundle.FormatTime(u) : null,
                    });
                }
                await console.Out.WriteLineAsync(array.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
                return SignetCli.Ok;
            }
            await console.Out.WriteLineAsync($"trust at {TrustBundle.FormatTime(when)}:");
            foreach (var (sec, e, trusted) in rows)
            {
                var until = e.TrustedUntil is not { } u ? "" : u == DateTimeOffset.MinValue ? " (no signature trusted)" : $" until {TrustBundle.FormatTime(u)}";
                await console.Out.WriteLineAsync($"{(trusted ? "trusted  " : "untrusted")} {TrustBundle.SectionName(sec)}/{e.Id} {e.PublicKey} {TrustBundle.StatusName(e.Status)}{until} name={e.Name} owner={e.Owner}");
            }
            if (rows.Count == 0)
            {
                await console.Out.WriteLineAsync("(no keys)");
            }
            return SignetCli.Ok;
        });
        return command;
    }

    private static Command Inspect(CliConsole console)
    {
        var files = new BundleOptions();
        var json = new Option<bool>("--json") { Description = "Print the bundle itself (as it is written)" };
        var command = new Command("inspect", "Check the bundle and summarise it: id, org, env, keys per section and status") { json };
        files.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = files.Path(parse, console);
            var bundle = TrustBundle.Load(path);
            if (parse.GetValue(json))
            {
                await console.Out.WriteAsync(Encoding.UTF8.GetString(bundle.ToUtf8()));
                return SignetCli.Ok;
            }
            await console.Out.WriteLineAsync($"{path}: valid trust bundle {bundle.BundleId}, org {bundle.Org}, env {bundle.Env}, generated {TrustBundle.FormatTime(bundle.GeneratedAt)}");
            if (bundle.Description is { } d)
            {
                await console.Out.WriteLineAsync($"  description: {d}");
            }
            foreach (var sec in (TrustSection[])[TrustSection.Roots, TrustSection.Agents, TrustSection.Servers])
            {
                var entries = bundle.Section(sec);
                await console.Out.WriteLineAsync($"  {TrustBundle.SectionName(sec)}: {entries.Count} ({entries.Count(e => e.Status == TrustStatus.Active)} active, {entries.Count(e => e.Status == TrustStatus.Disabled)} disabled, {entries.Count(e => e.Status == TrustStatus.Revoked)} revoked)");
            }
            await console.Out.WriteLineAsync("  the bundle is unsigned: whoever can write it decides what is trusted");
            return SignetCli.Ok;
        });
        return command;
    }

    /// <summary><c>trust revoke</c> (compromised) and <c>trust disable</c> (retired): receipts signed at or after <c>--at</c> stop verifying.</summary>
    private static Command End(CliConsole console, bool revoke)
    {
        var files = new BundleOptions();
        var section = SectionOption("The section of the key (default agents)");
        var id = new Option<string?>("--id") { Description = "The entry's id" };
        var pubkey = new Option<string?>("--pubkey") { Description = "Or the key itself" };
        var at = new Option<string?>("--at") { HelpName = "TIME", Description = "From when (UTC RFC 3339, or now; default now): receipts signed at or after it are not trusted, earlier ones still are" };
        var reason = new Option<string?>("--reason") { Description = "Why (kept as the entry's comment)" };
        var output = OutputOption();
        var command = new Command(revoke ? "revoke" : "disable", revoke
            ? "Revoke a compromised key from a time on: receipts it signed at or after --at fail, earlier ones still verify"
            : "Disable (retire) a key from a time on: receipts it signed at or after --at fail, earlier ones still verify")
        {
            section, id, pubkey, at, reason, output,
        };
        files.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = files.Path(parse, console);
            var bundle = TrustBundle.Load(path);
            var which = ParseSection(parse.GetValue(section)!);
            var entry = Find(bundle, which, parse.GetValue(id), parse.GetValue(pubkey));
            var now = console.Time.GetUtcNow();
            var when = parse.GetValue(at) is { } a ? ParseTime(a, "--at", console) : now;
            var changed = entry.EndedAt(when, revoke);
            if (parse.GetValue(reason) is { } why)
            {
                changed = changed with { Comment = why };
            }
            bundle = bundle.WithReplaced(which, entry.Id, changed) with { GeneratedAt = now };
            var target = Target(parse, output, path, console);
            bundle.Save(target);
            await console.Out.WriteLineAsync($"{TrustBundle.SectionName(which)}/{entry.Id} {entry.PublicKey}: {(revoke ? "revoked" : "disabled")}, trusted only for receipts signed before {TrustBundle.FormatTime(changed.TrustedUntil!.Value)} ({target})");
            return SignetCli.Ok;
        });
        return command;
    }

    private static Command Rotate(CliConsole console)
    {
        var files = new BundleOptions();
        var keys = new KeyOptions();
        var section = SectionOption("The section of the old key (default agents)");
        var newKey = new Option<string>("--new-key") { HelpName = "NAME", Description = "The new key, a key file in the home (its private key signs the proof of possession)", Required = true };
        var newPassphrase = new Option<string?>("--new-passphrase-file") { HelpName = "FILE", Description = "The new key's passphrase, first line of FILE (else $SIGNET_PASSPHRASE, else a prompt)" };
        var newId = new Option<string?>("--new-id") { Description = "The new entry's id (default: the new key's name)" };
        var newName = new Option<string?>("--new-name") { Description = "The new entry's name (default: the new key's name)" };
        var newOwner = new Option<string?>("--new-owner") { Description = "The new entry's owner (default: the old entry's)" };
        var overlap = new Option<string?>("--overlap-until") { HelpName = "TIME", Description = "Keep trusting the old key until this UTC time (default: only up to the announcement)" };
        var output = OutputOption();
        var command = new Command("rotate", "Hand a key's trust over to a new key: an announcement signed by the old key is appended to the audit log, and the bundle is updated")
        {
            section, newKey, newPassphrase, newId, newName, newOwner, overlap, output,
        };
        keys.AddTo(command);
        files.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = files.Path(parse, console);
            var bundle = TrustBundle.Load(path);
            var which = ParseSection(parse.GetValue(section)!);
            var homeDir = CommonOptions.ResolveHome(parse.GetValue(files.Home), console);
            var overlapUntil = parse.GetValue(overlap) is { } o ? ParseTime(o, "--overlap-until", console) : (DateTimeOffset?)null;
            using var oldKey = keys.Load(parse, homeDir, console);
            var old = bundle.Section(which).FirstOrDefault(e => e.PublicKey.Equals(oldKey.PublicKey))
                ?? throw new SignetException($"{path}: the key {oldKey.Name} ({oldKey.PublicKey}) is not in {TrustBundle.SectionName(which)}: only a trusted key can announce its successor (add it with 'signet trust add')");
            var now = console.Time.GetUtcNow();
            if (!old.IsTrustedAt(now))
            {
                throw new SignetException($"{path}: {TrustBundle.SectionName(which)}/{old.Id} {TrustBundle.Ended(old)}: a key that is no longer trusted cannot announce a successor");
            }
            var newKeyName = parse.GetValue(newKey)!;
            KeyStore.ValidateName(newKeyName);
            using var successor = KeyStore.ForHome(homeDir, console.Time).Load(newKeyName, Passphrases.For(console, parse.GetValue(newPassphrase)));
            var entryId = parse.GetValue(newId) ?? successor.Name;
            // Checked before anything is signed: the announcement must not reach the log if the bundle cannot take it.
            if (bundle.Section(which).FirstOrDefault(e => e.Id == entryId || e.PublicKey.Equals(successor.PublicKey)) is { } taken)
            {
                throw new SignetException(taken.PublicKey.Equals(successor.PublicKey)
                    ? $"{path}: the new key {successor.PublicKey} is already {TrustBundle.SectionName(which)}/{taken.Id}: rotate to a key the bundle does not list"
                    : $"{path}: {TrustBundle.SectionName(which)} already has an entry \"{entryId}\": choose another --new-id");
            }
            var action = KeyRotation.CreateAction(oldKey.PublicKey, successor.Signer, which, entryId,
                parse.GetValue(newName) ?? successor.Name, parse.GetValue(newOwner) ?? old.Owner, overlapUntil);
            var receipt = new ReceiptSigner(oldKey.Signer, oldKey.Name, oldKey.Owner, console.Time).SignRequest(action);
            ReceiptText.TryParseTimestamp(receipt.Json["ts"]!.GetValue<string>(), out var announced);
            // The log first: a bundle that trusts the new key without the announcement would be unverifiable history.
            await LogSink.AppendAsync(homeDir, receipt, console, ct);
            var end = KeyRotation.OldKeyEnd(announced, overlapUntil);
            bundle = bundle
                .WithReplaced(which, old.Id, old.EndedAt(end, revoke: false) with { Comment = $"rotated to {entryId} ({receipt.Id})" })
                .WithEntry(which, new TrustEntry
                {
                    Id = entryId,
                    Name = parse.GetValue(newName) ?? successor.Name,
                    Owner = parse.GetValue(newOwner) ?? old.Owner,
                    PublicKey = successor.PublicKey,
                    CreatedAt = announced,
                    Comment = $"rotated from {old.Id} ({receipt.Id})",
                }) with { GeneratedAt = now };
            var target = Target(parse, output, path, console);
            bundle.Save(target);
            await console.Out.WriteLineAsync($"rotated {TrustBundle.SectionName(which)}/{old.Id} -> {entryId} {successor.PublicKey}");
            await console.Out.WriteLineAsync($"  announcement {receipt.Id} appended to the audit log, signed by the old key; the old key is trusted for receipts signed before {TrustBundle.FormatTime(end)}");
            await console.Out.WriteLineAsync($"  bundle written to {target}");
            return SignetCli.Ok;
        });
        return command;
    }

    private static TrustEntry Find(TrustBundle bundle, TrustSection section, string? id, string? pubkey)
    {
        if ((id is null) == (pubkey is null))
        {
            throw new CliUsageException("name the key with --id ID or --pubkey KEY (one of them)");
        }
        var name = TrustBundle.SectionName(section);
        if (id is not null)
        {
            return bundle.Section(section).FirstOrDefault(e => e.Id == id)
                ?? throw new SignetException($"{name} has no entry with id \"{id}\" (ids: {string.Join(", ", bundle.Section(section).Select(e => e.Id).DefaultIfEmpty("none"))})");
        }
        var key = TrustedKeys.ParseKeyArgument(pubkey!);
        return bundle.Section(section).FirstOrDefault(e => e.PublicKey.Equals(key))
            ?? throw new SignetException($"{name} has no entry for key {key}");
    }

    private static string Target(ParseResult parse, Option<string?> output, string path, CliConsole console) =>
        parse.GetValue(output) is { } o ? Path.GetFullPath(o, console.WorkingDirectory) : path;

    public static TrustSection ParseSection(string text) =>
        TrustBundle.TryParseSection(text, out var section) ? section : throw new CliUsageException($"--section {text}: give roots, agents or servers");

    /// <summary><c>now</c>, or an RFC 3339 time with an offset (converted to UTC).</summary>
    public static DateTimeOffset ParseTime(string text, string option, CliConsole console)
    {
        if (text == "now")
        {
            return console.Time.GetUtcNow();
        }
        if (ReceiptText.TryParseTimestamp(text, out var time))
        {
            return time.ToUniversalTime();
        }
        throw new CliUsageException($"{option} {text}: give now or an RFC 3339 time such as 2026-12-01T12:00:00Z");
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        RandomSource.Cryptographic.Fill(bytes);
        return bytes;
    }
}
