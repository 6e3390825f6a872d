using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Receipts;
using Signet.Transparency;
using Signet.Trust;

namespace Signet.Cli.Commands;

/// <summary><c>signet verify</c>: checks receipts (any version) from a file or stdin.</summary>
internal static class VerifyCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new Argument<string?>("file") { Description = "A receipt, a JSON Lines file of receipts or audit records, or - for stdin", Arity = ArgumentArity.ZeroOrOne };
        var proof = new Option<string?>("--proof") { HelpName = "FILE", Description = "Verify a tlog-proof from 'signet log prove' instead: the record, its receipt, and its inclusion in the signed checkpoint, offline (needs --log-key)" };
        var logKey = new Option<string?>("--log-key") { HelpName = "VKEY", Description = "With --proof: the log's verifier key ('signet log checkpoint --verifier-key'), inline or a file" };
        var witnessKeys = new Option<string[]>("--witness-key") { HelpName = "VKEY", Description = "With --proof: a witness's cosignature key (repeatable); by default all of them must have cosigned", AllowMultipleArgumentsPerToken = false };
        var witnessCount = new Option<int?>("--witnesses") { HelpName = "N", Description = "With --proof: how many of the --witness-key witnesses must have cosigned (default: all)" };
        var policyFile = new Option<string?>("--policy") { HelpName = "FILE", Description = "With --proof: a C2SP tlog-policy file naming the witnesses and the quorum, instead of --witness-key" };
        var pubkeys = new Option<string[]>("--pubkey")
        {
            Description = "A trusted key: ed25519:<base64>, bare base64, or a .pub file (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        var trusted = new Option<string?>("--trusted-keys") { Description = "A file of trusted keys: one ed25519:… per line (# comments), a JSON array, or a Signet trust bundle" };
        var trustBundle = TrustedKeys.TrustBundleOption();
        var trustAt = TrustedKeys.TrustAtOption();
        var lax = new Option<bool>("--lax") { Description = "Only the reference Signet's checks (reads old evidence; weaker)" };
        var allowExpired = new Option<bool>("--allow-expired") { Description = "Accept receipts past their exp (forensic reading)" };
        var json = CommonOptions.Json();
        var command = new Command("verify", "Verify receipts; exit 0 when every one is valid, 1 otherwise")
        {
            input, pubkeys, trusted, trustBundle, trustAt, lax, allowExpired, json, proof, logKey, witnessKeys, witnessCount, policyFile,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(proof) is { } proofFile)
            {
                if (parse.GetValue(input) is not null)
                {
                    throw new CliUsageException("give either a receipt file or --proof FILE, not both");
                }
                return await VerifyProof(console, parse, proofFile, parse.GetValue(logKey), parse.GetValue(witnessKeys) ?? [], parse.GetValue(witnessCount),
                    parse.GetValue(policyFile), TrustedKeys.Resolve(parse, pubkeys, trusted, trustBundle, trustAt, console), allowExpired, json, ct);
            }
            if (parse.GetValue(logKey) is not null || parse.GetValue(witnessKeys) is { Length: > 0 } || parse.GetValue(witnessCount) is not null || parse.GetValue(policyFile) is not null)
            {
                throw new CliUsageException("--log-key, --witness-key, --witnesses and --policy go with --proof");
            }
            var (keys, bundle, at) = TrustedKeys.Resolve(parse, pubkeys, trusted, trustBundle, trustAt, console);
            var options = new ReceiptVerificationOptions
            {
                TrustedKeys = keys,
                TrustedAgentKeys = keys,
                TrustBundle = bundle,
                TrustAt = at,
                Lax = parse.GetValue(lax),
                AllowExpired = parse.GetValue(allowExpired),
                TimeProvider = console.Time,
            };

            var path = parse.GetValue(input) ?? throw new CliUsageException("give a receipt file (or - for stdin), or --proof FILE");
            var bytes = path == "-"
                ? await console.ReadStandardInputAsync(ct)
                : await ReadInput(path, ct);
            var results = VerifyAll(bytes, path, options);
            if (results.Count == 0)
            {
                throw new SignetException($"{path}: no receipt found");
            }

            if (parse.GetValue(json))
            {
                var array = new JsonArray();
                foreach (var (where, result) in results)
                {
                    // The JsonNode overload: Add<T> serializes through reflection and is not trim-safe.
                    array.Add((JsonNode)new JsonObject
                    {
                        ["source"] = where,
                        ["valid"] = result.IsValid,
                        ["version"] = result.Version,
                        ["id"] = result.ReceiptId,
                        ["tool"] = result.Receipt?.Tool,
                        ["signer"] = result.SignerKey?.Text,
                        ["anchored"] = result.IsAnchored,
                        ["reason"] = result.Reason,
                        ["field"] = result.Field,
                        ["warnings"] = new JsonArray([.. result.Warnings.Select(w => (JsonNode?)w)]),
                    });
                }
                await console.Out.WriteLineAsync(array.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            }
            else
            {
                foreach (var (where, result) in results)
                {
                    var line = result.IsValid
                        ? $"OK    {where}: v{result.Version} {result.ReceiptId} tool={result.Receipt?.Tool ?? "-"} signer={result.Receipt?.SignerName} ({result.SignerKey}){(result.IsAnchored ? "" : " [integrity only: pass --pubkey, --trusted-keys or --trust-bundle to anchor the signer]")}"
                        : $"FAIL  {where}: {result.Reason}{(result.Field is null ? "" : $" [field {result.Field}]")}";
                    await console.Out.WriteLineAsync(line);
                    foreach (var warning in result.Warnings)
                    {
                        await console.Out.WriteLineAsync($"      warning: {warning}");
                    }
                }
                var bad = results.Count(r => !r.Result.IsValid);
                await console.Out.WriteLineAsync(bad == 0
                    ? $"{results.Count} receipt(s) valid{(options.Lax ? " (lax mode: the reference's checks only)" : "")}"
                    : $"{bad} of {results.Count} receipt(s) INVALID");
            }
            return results.All(r => r.Result.IsValid) ? SignetCli.Ok : SignetCli.Failed;
        });
        return command;
    }

    /// <summary><c>verify --proof</c>: one receipt's inclusion in a signed, witnessed checkpoint, without the log.</summary>
    private static async Task<int> VerifyProof(CliConsole console, ParseResult parse, string proofFile, string? logKeyText, string[] witnessKeyTexts, int? witnessCount,
        string? policyFile, (List<PublicKey> Keys, TrustBundle? Bundle, DateTimeOffset? At) trust, Option<bool> allowExpired, Option<bool> json, CancellationToken ct)
    {
        if (logKeyText is null)
        {
            throw new CliUsageException("--proof needs --log-key VKEY: the log's verifier key ('signet log checkpoint --verifier-key' prints it), from a source you trust");
        }
        var logKey = ParseVerifierKey(logKeyText, "--log-key");
        WitnessPolicy policy;
        if (policyFile is not null)
        {
            if (witnessKeyTexts.Length > 0 || witnessCount is not null)
            {
                throw new CliUsageException("give either --policy or --witness-key/--witnesses");
            }
            policy = WitnessPolicy.Parse(await ReadInputText(policyFile, ct));
        }
        else
        {
            var witnesses = witnessKeyTexts.Select(k => ParseVerifierKey(k, "--witness-key")).ToList();
            var required = witnessCount ?? witnesses.Count;
            if (required < 0 || required > witnesses.Count)
            {
                throw new CliUsageException($"--witnesses {required}: give a number from 0 to the {witnesses.Count} --witness-key given");
            }
            policy = witnesses.Count == 0 ? WitnessPolicy.None : WitnessPolicy.Threshold(required, witnesses);
        }
        var keys = trust.Keys;
        TlogProof proof;
        try
        {
            proof = TlogProof.Parse(await ReadInputText(proofFile, ct));
        }
        catch (SignetException e)
        {
            throw new SignetException($"{proofFile}: {e.Message}", e);
        }
        var result = AuditProof.Verify(proof, logKey, policy, new ReceiptVerificationOptions
        {
            TrustedKeys = keys,
            TrustedAgentKeys = keys,
            TrustBundle = trust.Bundle,
            TrustAt = trust.At,
            AllowExpired = parse.GetValue(allowExpired),
            TimeProvider = console.Time,
        });
        var cosigned = result.Checkpoint?.Cosignatures ?? [];
        if (parse.GetValue(json))
        {
            var report = new JsonObject
            {
                ["source"] = proofFile,
                ["valid"] = result.IsValid,
                ["index"] = result.Index,
                ["origin"] = proof.Checkpoint.Checkpoint.Origin,
                ["tree_size"] = proof.Checkpoint.Checkpoint.Size,
                ["receipt_id"] = result.Receipt?.ReceiptId,
                ["tool"] = result.Receipt?.Receipt?.Tool,
                ["receipt_anchored"] = result.Receipt?.IsAnchored ?? false,
                ["witnesses"] = new JsonArray([.. cosigned.Select(c => (JsonNode?)new JsonObject
                {
                    ["name"] = c.Witness,
                    ["time"] = c.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                })]),
                ["quorum"] = policy.DescribeQuorum(),
                ["problems"] = new JsonArray([.. result.Problems.Select(p => (JsonNode?)p)]),
            };
            await console.Out.WriteLineAsync(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }
        else if (result.IsValid)
        {
            await console.Out.WriteLineAsync($"OK    {proofFile}: receipt {result.Receipt?.ReceiptId} tool={result.Receipt?.Receipt?.Tool ?? "-"} is record {result.Index} of {proof.Checkpoint.Checkpoint.Origin} at size {proof.Checkpoint.Checkpoint.Size}");
            await console.Out.WriteLineAsync(cosigned.Count == 0
                ? "      no witness cosignature was required"
                : $"      cosigned by {string.Join(", ", cosigned.Select(c => $"{c.Witness} ({c.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z)"))}; policy: {policy.DescribeQuorum()}");
            if (result.Receipt is { IsAnchored: false })
            {
                await console.Out.WriteLineAsync("      receipt signer checked for integrity only: pass --pubkey, --trusted-keys or --trust-bundle to anchor it");
            }
        }
        else
        {
            await console.Out.WriteLineAsync($"FAIL  {proofFile}:");
            foreach (var problem in result.Problems)
            {
                await console.Out.WriteLineAsync($"      {problem}");
            }
        }
        return result.IsValid ? SignetCli.Ok : SignetCli.Failed;
    }

    private static NoteVerifierKey ParseVerifierKey(string text, string option)
    {
        try
        {
            return NoteVerifierKey.Parse(WitnessCommands.ReadKeyArgument(text));
        }
        catch (SignetException e)
        {
            throw new CliUsageException($"{option} {text}: {e.Message}");
        }
    }

    private static async Task<string> ReadInputText(string path, CancellationToken ct)
    {
        var bytes = await ReadInput(path, ct);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new SignetException($"{path}: not valid UTF-8");
        }
    }

    private static async Task<byte[]> ReadInput(string path, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            throw new SignetException(Directory.Exists(path) ? $"{path}: is a directory, not a receipt file" : $"{path}: no such file");
        }
        return await File.ReadAllBytesAsync(path, ct);
    }

    /// <summary>One receipt document, or JSON Lines of receipts or audit records.</summary>
    internal static List<(string Where, ReceiptVerification Result)> VerifyAll(byte[] bytes, string source, ReceiptVerificationOptions options)
    {
        var results = new List<(string, ReceiptVerification)>();
        var text = bytes.AsSpan();
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            text = text[3..];
        }
        // A whole-document receipt (possibly pretty-printed) first; else line by line.
        var trimmed = text.Trim("\r\n\t "u8);
        if (trimmed.IndexOf((byte)'\n') < 0 || LooksLikeOneDocument(trimmed))
        {
            results.Add((source, VerifyOne(trimmed, options)));
            return results;
        }
        var lineNumber = 0;
        foreach (var range in text.Split((byte)'\n'))
        {
            lineNumber++;
            var line = text[range].TrimEnd("\r"u8).Trim(" \t"u8);
            if (line.IsEmpty)
            {
                continue;
            }
            results.Add(($"{source}:{lineNumber}", VerifyOne(line, options)));
        }
        return results;
    }

    private static bool LooksLikeOneDocument(ReadOnlySpan<byte> text) =>
        StrictJson.TryParse(text, out _, out _, new StrictJsonOptions { DuplicateKeys = DuplicateKeyPolicy.LastWins, MaxDepth = 130 });

    private static ReceiptVerification VerifyOne(ReadOnlySpan<byte> json, ReceiptVerificationOptions options)
    {
        // An audit record wraps the receipt: {"receipt":…,"prev_hash":…,"record_hash":…}.
        var policy = options.Lax ? DuplicateKeyPolicy.LastWins : DuplicateKeyPolicy.Reject;
        if (StrictJson.TryParse(json, out var node, out _, new StrictJsonOptions { DuplicateKeys = policy, MaxDepth = 130 })
            && node is JsonObject obj && obj["receipt"] is JsonObject && obj.ContainsKey("record_hash"))
        {
            // The line was parsed with the same duplicate-key policy the verifier would use, so verify the node as it is.
            return ReceiptVerifier.Verify(obj["receipt"]!.AsObject(), options);
        }
        return ReceiptVerifier.Verify(json, options);
    }
}

/// <summary>Reads trusted public keys from arguments and files.</summary>
internal static class TrustedKeys
{
    /// <summary>ed25519:…, bare base64, or a path to a .pub file (the reference's JSON form or a single key line).</summary>
    public static PublicKey ParseKeyArgument(string value)
    {
        if (PublicKey.TryParse(value, out var key, out var error))
        {
            return key;
        }
        if (File.Exists(value))
        {
            var keys = Load(value);
            return keys.Count == 1 ? keys[0] : throw new SignetException($"{value}: expected one public key, found {keys.Count}");
        }
        if (!value.StartsWith(PublicKey.Prefix, StringComparison.Ordinal) && (value.EndsWith(".pub", StringComparison.OrdinalIgnoreCase)
            || Path.IsPathRooted(value) || value.StartsWith("./", StringComparison.Ordinal) || value.StartsWith("../", StringComparison.Ordinal)))
        {
            // A path that names no file is a missing file (exit 1), as for every other file a command is given.
            throw new SignetException($"{value}: no such file (from --pubkey; give ed25519:<base64>, bare base64, or a .pub file)");
        }
        throw new CliUsageException($"--pubkey {value}: {error}; give ed25519:<base64>, bare base64, or a .pub file");
    }

    public static Option<string?> TrustBundleOption() => new("--trust-bundle")
    {
        HelpName = "FILE",
        Description = "A trust bundle (the reference's format): each key judged in its section (agents, servers, roots) at the time its receipt was signed",
    };

    public static Option<string?> TrustAtOption() => new("--trust-at")
    {
        HelpName = "TIME",
        Description = "With a trust bundle: judge keys at this time (now: the reference's rule) instead of at each receipt's signing time",
    };

    /// <summary>
    /// The trusted keys of --pubkey and --trusted-keys, or the trust bundle of --trust-bundle (or of --trusted-keys,
    /// when that file is a bundle: bundles always get their time rules), and --trust-at. Keys and a bundle together
    /// are refused unless <paramref name="keysAreForSomethingElse"/> (an evidence bundle's manifest signer).
    /// </summary>
    public static (List<PublicKey> Keys, TrustBundle? Bundle, DateTimeOffset? At) Resolve(ParseResult parse, Option<string[]> pubkeys, Option<string?> trusted,
        Option<string?> trustBundle, Option<string?> trustAt, CliConsole console, bool keysAreForSomethingElse = false)
    {
        var keys = new List<PublicKey>();
        foreach (var k in parse.GetValue(pubkeys) ?? [])
        {
            keys.Add(ParseKeyArgument(k));
        }
        var bundlePath = parse.GetValue(trustBundle);
        if (parse.GetValue(trusted) is { } file)
        {
            if (IsTrustBundle(file))
            {
                if (bundlePath is not null)
                {
                    throw new CliUsageException("--trusted-keys names a trust bundle and --trust-bundle another: give one");
                }
                bundlePath = file;
            }
            else
            {
                keys.AddRange(Load(file));
            }
        }
        var bundle = bundlePath is null ? null : TrustBundle.Load(bundlePath);
        if (bundle is not null && keys.Count > 0 && !keysAreForSomethingElse)
        {
            throw new CliUsageException("give trusted keys (--pubkey, --trusted-keys) or a trust bundle, not both: the bundle says which role and which times a key is trusted for");
        }
        DateTimeOffset? at = null;
        if (parse.GetValue(trustAt) is { } atText)
        {
            if (bundle is null)
            {
                throw new CliUsageException("--trust-at goes with a trust bundle (--trust-bundle FILE)");
            }
            at = TrustCommands.ParseTime(atText, "--trust-at", console);
        }
        return (keys, bundle, at);
    }

    /// <summary>True when the file is a JSON object with a <c>bundle_id</c>: a trust bundle, whatever its other content.</summary>
    private static bool IsTrustBundle(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }
        var bytes = File.ReadAllBytes(path);
        return StrictJson.TryParse(bytes.AsSpan().TrimStart((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]), out var node, out _) && node is JsonObject obj && obj.ContainsKey("bundle_id");
    }

    public static List<PublicKey> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new SignetException($"{path}: no such file (trusted keys)");
        }
        // Bytes, not text: a decoder would turn invalid UTF-8 into U+FFFD instead of refusing it.
        var bytes = File.ReadAllBytes(path);
        var bom = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        var start = bom + Math.Max(0, bytes.AsSpan(bom).IndexOfAnyExcept(" \t\r\n"u8));
        var trimmed = bytes.AsSpan(start).TrimEnd(" \t\r\n"u8);
        var keys = new List<PublicKey>();
        if (trimmed.Length > 0 && trimmed[0] is (byte)'{' or (byte)'[')
        {
            JsonNode? node;
            try
            {
                // Leading whitespace stays, so that the parser's line and offset are the file's (after a byte order mark).
                node = StrictJson.Parse(bytes.AsSpan(bom).TrimEnd(" \t\r\n"u8));
            }
            catch (JsonParseException e)
            {
                throw new SignetException($"{path}: {e.Message}");
            }
            Collect(node, path, keys);
        }
        else
        {
            if (StrictJson.IndexOfInvalidUtf8(trimmed) is var bad and >= 0)
            {
                var at = start + bad;
                var line = 1 + bytes.AsSpan(0, at).Count((byte)'\n');
                throw new SignetException($"{path}:{line}: invalid UTF-8 at byte offset {at} of the file (trusted keys)");
            }
            var text = Encoding.UTF8.GetString(trimmed);
            var lineNumber = 0;
            foreach (var raw in text.Split('\n'))
            {
                lineNumber++;
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#'))
                {
                    continue;
                }
                if (!PublicKey.TryParse(line.Split(' ', 2)[0], out var key, out var error))
                {
                    throw new SignetException($"{path}:{lineNumber}: {error}");
                }
                keys.Add(key);
            }
        }
        if (keys.Count == 0)
        {
            throw new SignetException($"{path}: no public keys found");
        }
        return keys;
    }

    private static void Collect(JsonNode? node, string path, List<PublicKey> keys)
    {
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array)
                {
                    Collect(item, path, keys);
                }
                break;
            case JsonValue value when value.TryGetValue<string>(out var s):
                keys.Add(PublicKey.TryParse(s, out var k, out var error) ? k : throw new SignetException($"{path}: {error}"));
                break;
            case JsonObject obj when obj["pubkey"] is JsonValue pub:
                {
                    // A .pub file or a trust-bundle entry; bundle entries that are not active are not trusted.
                    string? status = null;
                    if (obj["status"] is { } statusNode && !(statusNode is JsonValue sv && sv.TryGetValue(out status)))
                    {
                        throw new SignetException($"{path}: \"status\" must be a string such as \"active\"");
                    }
                    if (status is null or "active")
                    {
                        var text = pub.TryGetValue<string>(out var t) ? t : throw new SignetException($"{path}: \"pubkey\" must be a string, ed25519:<base64>");
                        keys.Add(PublicKey.TryParse(text, out var pk, out var err) ? pk : throw new SignetException($"{path}: {err}"));
                    }
                    break;
                }
            case JsonObject bundle:
                foreach (var section in new[] { "roots", "agents", "servers", "keys" })
                {
                    if (bundle[section] is JsonArray entries)
                    {
                        Collect(entries, path, keys);
                    }
                }
                break;
        }
    }
}
