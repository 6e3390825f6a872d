using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Trust;

/// <summary>
/// A trust bundle in the reference Signet's format: <c>{version:1, bundle_id, org, env, generated_at, description?,
/// source?, roots[], agents[], servers[]}</c>. Immutable; edits return a new bundle.
/// </summary>
/// <remarks>
/// A key is trusted for a signature if its section has an entry for it and the signature's time is before the
/// entry's <see cref="TrustEntry.TrustedUntil"/> (docs/trust.md). Bundles are unsigned files: whoever can write
/// the file decides what is trusted. It implements <see cref="ITrustBundleSource"/> as a source that never changes.
/// </remarks>
public sealed partial record TrustBundle : ITrustBundleSource
{
    /// <summary>The only <c>version</c> this format has.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The bundle's id.</summary>
    public required string BundleId { get; init; }

    /// <summary>The organisation the bundle belongs to.</summary>
    public required string Org { get; init; }

    /// <summary>The environment: <c>^[a-z0-9][a-z0-9_-]{0,31}$</c>, e.g. <c>prod</c>.</summary>
    public required string Env { get; init; }

    /// <summary>When the bundle was last written (UTC).</summary>
    public required DateTimeOffset GeneratedAt { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>Where the bundle came from.</summary>
    public string? Source { get; init; }

    /// <summary>Delegation roots (v4).</summary>
    public IReadOnlyList<TrustEntry> Roots { get; init; } = [];

    /// <summary>Agent keys: receipt signers.</summary>
    public IReadOnlyList<TrustEntry> Agents { get; init; } = [];

    /// <summary>Server keys: v3 co-signers.</summary>
    public IReadOnlyList<TrustEntry> Servers { get; init; } = [];

    TrustBundle ITrustBundleSource.Current => this;

    /// <summary>The entries of a section.</summary>
    public IReadOnlyList<TrustEntry> Section(TrustSection section) => section switch
    {
        TrustSection.Roots => Roots,
        TrustSection.Agents => Agents,
        _ => Servers,
    };

    /// <summary>The section's name in the file: <c>roots</c>, <c>agents</c> or <c>servers</c>.</summary>
    public static string SectionName(TrustSection section) => section switch
    {
        TrustSection.Roots => "roots",
        TrustSection.Agents => "agents",
        _ => "servers",
    };

    /// <summary>Reads a section name: <c>roots</c>, <c>agents</c> or <c>servers</c>.</summary>
    public static bool TryParseSection(string? name, out TrustSection section)
    {
        (var known, section) = name switch
        {
            "roots" => (true, TrustSection.Roots),
            "agents" => (true, TrustSection.Agents),
            "servers" => (true, TrustSection.Servers),
            _ => (false, default),
        };
        return known;
    }

    /// <summary>A status as the file writes it: <c>active</c>, <c>disabled</c> or <c>revoked</c>.</summary>
    internal static string StatusName(TrustStatus status) => status switch
    {
        TrustStatus.Active => "active",
        TrustStatus.Disabled => "disabled",
        _ => "revoked",
    };

    /// <summary>True when <paramref name="env"/> is a valid <c>env</c>.</summary>
    public static bool IsValidEnv(string? env) => env is not null && EnvPattern().IsMatch(env);

    /// <summary>Whether <paramref name="key"/> is trusted in <paramref name="section"/> for a signature made at <paramref name="at"/>.</summary>
    public TrustDecision Evaluate(TrustSection section, PublicKey key, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(key);
        var entry = Section(section).FirstOrDefault(e => e.PublicKey.Equals(key));
        if (entry is null)
        {
            return new TrustDecision { IsTrusted = false, Reason = $"key {key} is not in the trust bundle's {SectionName(section)}" };
        }
        if (entry.IsTrustedAt(at))
        {
            return new TrustDecision { IsTrusted = true, Entry = entry };
        }
        return new TrustDecision { IsTrusted = false, Entry = entry, Reason = $"key {key} ({SectionName(section)}/{entry.Id}) {Ended(entry)}; signed at {FormatTime(at)}, which is not before it" };
    }

    /// <summary>How an entry's trust ended, for messages: "revoked at T", "disabled at T", "expired at T".</summary>
    internal static string Ended(TrustEntry entry)
    {
        if (entry.TrustedUntil is not { } end)
        {
            return "is trusted without end";
        }
        if (end == DateTimeOffset.MinValue)
        {
            return entry.Status == TrustStatus.Revoked ? "is revoked (no revoked_at: no signature is trusted)" : "is disabled (no disabled_at: no signature is trusted)";
        }
        return end == entry.RevokedAt ? $"was revoked at {FormatTime(end)}"
            : end == entry.DisabledAt ? $"was disabled at {FormatTime(end)}"
            : $"expired at {FormatTime(end)}";
    }

    /// <summary>A new bundle with <paramref name="entry"/> added to <paramref name="section"/>.</summary>
    /// <exception cref="TrustBundleException">The section already has an entry with that id or key.</exception>
    public TrustBundle WithEntry(TrustSection section, TrustEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var entries = Section(section);
        if (entries.FirstOrDefault(e => e.Id == entry.Id || e.PublicKey.Equals(entry.PublicKey)) is { } existing)
        {
            throw new TrustBundleException(existing.Id == entry.Id
                ? $"{SectionName(section)} already has an entry with id \"{entry.Id}\""
                : $"{SectionName(section)} already has key {entry.PublicKey} (entry \"{existing.Id}\")");
        }
        return WithSection(section, [.. entries, entry]);
    }

    /// <summary>A new bundle with the entry of id <paramref name="id"/> in <paramref name="section"/> replaced by <paramref name="replacement"/>.</summary>
    /// <exception cref="TrustBundleException">There is no such entry.</exception>
    public TrustBundle WithReplaced(TrustSection section, string id, TrustEntry replacement)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        var entries = Section(section);
        var index = entries.ToList().FindIndex(e => e.Id == id);
        if (index < 0)
        {
            throw new TrustBundleException($"{SectionName(section)} has no entry with id \"{id}\"");
        }
        var list = entries.ToList();
        list[index] = replacement;
        return WithSection(section, list);
    }

    private TrustBundle WithSection(TrustSection section, IReadOnlyList<TrustEntry> entries) => section switch
    {
        TrustSection.Roots => this with { Roots = entries },
        TrustSection.Agents => this with { Agents = entries },
        _ => this with { Servers = entries },
    };

    /// <summary>Reads a bundle file (JSON; a YAML bundle is refused with a message saying how to convert it).</summary>
    /// <exception cref="TrustBundleException">Missing, unreadable or invalid; the message names the file, section, entry and field.</exception>
    public static TrustBundle Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException e)
        {
            throw new TrustBundleException($"{path}: no such file (trust bundle)", path, e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new TrustBundleException($"{path}: no such file (trust bundle)", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrustBundleException($"{path}: cannot be read (trust bundle): {e.Message}", path, e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses bundle JSON. <paramref name="source"/> names it in errors (a file path).</summary>
    /// <exception cref="TrustBundleException">The JSON is not a valid bundle.</exception>
    public static TrustBundle Parse(ReadOnlySpan<byte> utf8Json, string? source = null)
    {
        var where = source ?? "trust bundle";
        var text = utf8Json;
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            text = text[3..];
        }
        var first = text.IndexOfAnyExcept(" \t\r\n"u8);
        if (first < 0)
        {
            throw new TrustBundleException($"{where}: empty file, not a trust bundle", source);
        }
        if (text[first] != (byte)'{')
        {
            throw new TrustBundleException($"{where}: not a JSON object. YAML trust bundles are not read by this version: convert it to JSON first (for example 'yq -o=json . {source ?? "bundle.yaml"} > bundle.json'); the fields are the same", source);
        }
        JsonNode? node;
        try
        {
            node = StrictJson.Parse(text);
        }
        catch (JsonParseException e)
        {
            throw new TrustBundleException($"{where}: {e.Message}", source, e);
        }
        var root = node as JsonObject ?? throw new TrustBundleException($"{where}: a trust bundle is a JSON object", source);
        var reader = new Reader(where, source, "");
        reader.Unknown(root, BundleFields);
        var version = reader.Int(root, "version");
        if (version != CurrentVersion)
        {
            throw reader.Fail("version", $"unsupported version {version} (this version reads {CurrentVersion})");
        }
        var env = reader.String(root, "env");
        if (!IsValidEnv(env))
        {
            throw reader.Fail("env", $"\"{env}\" is not a valid env: lowercase letters, digits, '_' and '-', starting with a letter or digit, at most 32 characters");
        }
        return new TrustBundle
        {
            BundleId = reader.NonEmpty(root, "bundle_id"),
            Org = reader.NonEmpty(root, "org"),
            Env = env,
            GeneratedAt = reader.Time(root, "generated_at")!.Value,
            Description = reader.OptionalString(root, "description"),
            Source = reader.OptionalString(root, "source"),
            Roots = ReadSection(root, TrustSection.Roots, where, source),
            Agents = ReadSection(root, TrustSection.Agents, where, source),
            Servers = ReadSection(root, TrustSection.Servers, where, source),
        };
    }

    private static readonly string[] BundleFields = ["version", "bundle_id", "org", "env", "generated_at", "description", "source", "roots", "agents", "servers"];
    private static readonly string[] EntryFields = ["id", "name", "owner", "pubkey", "status", "created_at", "expires_at", "disabled_at", "revoked_at", "comment"];

    private static List<TrustEntry> ReadSection(JsonObject root, TrustSection section, string where, string? source)
    {
        var name = SectionName(section);
        var entries = new List<TrustEntry>();
        if (root[name] is not JsonArray array)
        {
            throw new Reader(where, source, "").Fail(name, root.ContainsKey(name) ? "must be an array of entries" : "is missing (an empty section is [])");
        }
        for (var i = 0; i < array.Count; i++)
        {
            var probe = array[i] as JsonObject;
            var id = probe?["id"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
            var reader = new Reader(where, source, $"{name}[{i}]{(id is null ? "" : $" (id \"{id}\")")}");
            var obj = probe ?? throw reader.Fail(null, "an entry must be a JSON object");
            reader.Unknown(obj, EntryFields);
            var pubText = reader.String(obj, "pubkey");
            if (!pubText.StartsWith(PublicKey.Prefix, StringComparison.Ordinal) || !PublicKey.TryParse(pubText, out var key, out var keyError))
            {
                throw reader.Fail("pubkey", pubText.StartsWith(PublicKey.Prefix, StringComparison.Ordinal) ? "is not ed25519: + padded base64 of 32 bytes" : "must start with ed25519:");
            }
            var statusText = reader.String(obj, "status");
            var status = statusText switch
            {
                "active" => TrustStatus.Active,
                "disabled" => TrustStatus.Disabled,
                "revoked" => TrustStatus.Revoked,
                _ => throw reader.Fail("status", $"\"{statusText}\" is not one of active, disabled, revoked"),
            };
            var entry = new TrustEntry
            {
                Id = reader.NonEmpty(obj, "id"),
                Name = reader.String(obj, "name"),
                Owner = reader.String(obj, "owner"),
                PublicKey = key,
                Status = status,
                CreatedAt = reader.Time(obj, "created_at")!.Value,
                ExpiresAt = reader.Time(obj, "expires_at", optional: true),
                DisabledAt = reader.Time(obj, "disabled_at", optional: true),
                RevokedAt = reader.Time(obj, "revoked_at", optional: true),
                Comment = reader.OptionalString(obj, "comment"),
            };
            if (entries.FirstOrDefault(e => e.Id == entry.Id) is { } sameId)
            {
                throw reader.Fail("id", $"repeats the id of an earlier entry of {name}");
            }
            if (entries.FirstOrDefault(e => e.PublicKey.Equals(key)) is { } sameKey)
            {
                throw reader.Fail("pubkey", $"repeats the key of entry \"{sameKey.Id}\" of {name}: one entry per key, or the bundle is ambiguous");
            }
            entries.Add(entry);
        }
        return entries;
    }

    /// <summary>The bundle as the reference writes it: pretty-printed JSON (two-space indent), fields in the format's order, absent optionals left out, a final newline.</summary>
    public byte[] ToUtf8()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("version", CurrentVersion);
            w.WriteString("bundle_id", BundleId);
            w.WriteString("org", Org);
            w.WriteString("env", Env);
            w.WriteString("generated_at", FormatTime(GeneratedAt));
            if (Description is not null)
            {
                w.WriteString("description", Description);
            }
            if (Source is not null)
            {
                w.WriteString("source", Source);
            }
            foreach (var section in (TrustSection[])[TrustSection.Roots, TrustSection.Agents, TrustSection.Servers])
            {
                w.WriteStartArray(SectionName(section));
                foreach (var e in Section(section))
                {
                    w.WriteStartObject();
                    w.WriteString("id", e.Id);
                    w.WriteString("name", e.Name);
                    w.WriteString("owner", e.Owner);
                    w.WriteString("pubkey", e.PublicKey.Text);
                    w.WriteString("status", StatusName(e.Status));
                    w.WriteString("created_at", FormatTime(e.CreatedAt));
                    WriteOptional(w, "expires_at", e.ExpiresAt);
                    WriteOptional(w, "disabled_at", e.DisabledAt);
                    WriteOptional(w, "revoked_at", e.RevokedAt);
                    if (e.Comment is not null)
                    {
                        w.WriteString("comment", e.Comment);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, FormatTime(v));
        }
    }

    /// <summary>Writes the bundle to <paramref name="path"/> atomically: a temporary file beside it, fsync, rename, fsync of the directory.</summary>
    /// <exception cref="TrustBundleException">The file cannot be written (the old one, if any, is untouched).</exception>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            DurableFile.Replace(path, ToUtf8());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrustBundleException($"{path}: cannot be written (trust bundle): {e.Message}", path, e);
        }
    }

    /// <summary>
    /// A UTC time as the reference's chrono writes it: <c>YYYY-MM-DDTHH:MM:SSZ</c>, with 3, 6 or 9 fraction digits
    /// only when the time has a fraction.
    /// </summary>
    public static string FormatTime(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var ticks = utc.Ticks % TimeSpan.TicksPerSecond;
        var fraction = ticks == 0 ? ""
            : ticks % TimeSpan.TicksPerMillisecond == 0 ? utc.ToString(".fff", CultureInfo.InvariantCulture)
            : ticks % 10 == 0 ? utc.ToString(".ffffff", CultureInfo.InvariantCulture)
            : utc.ToString(".fffffff", CultureInfo.InvariantCulture) + "00";
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + fraction + "Z";
    }

    /// <summary>Parses a UTC RFC 3339 time (<c>Z</c> or <c>+00:00</c>).</summary>
    public static bool TryParseTime(string? text, out DateTimeOffset time)
    {
        time = default;
        if (text is null || !TimePattern().IsMatch(text))
        {
            return false;
        }
        // DateTimeOffset keeps 7 fraction digits: nanoseconds beyond that are cut, never rounded up past the instant.
        var m = TimePattern().Match(text);
        var fraction = m.Groups[1].Value;
        var trimmed = text[..m.Groups[1].Index] + (fraction.Length > 8 ? fraction[..8] : fraction) + text[(m.Groups[1].Index + fraction.Length)..];
        return DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$", RegexOptions.CultureInvariant)]
    private static partial Regex TimePattern();

    /// <summary>Reads fields with errors that say where: the file, the entry (section, index, id) and the field.</summary>
    private readonly struct Reader(string where, string? source, string entry)
    {
        public TrustBundleException Fail(string? field, string problem) =>
            new($"{where}: {(entry.Length == 0 ? "" : entry + (field is null ? "" : ", "))}{(field is null ? "" : $"field \"{field}\"")}: {problem}", source);

        public void Unknown(JsonObject obj, string[] known)
        {
            foreach (var (name, _) in obj)
            {
                if (Array.IndexOf(known, name) < 0)
                {
                    throw Fail(name, "unknown field (not part of the trust bundle format; a misspelt field would otherwise be ignored silently)");
                }
            }
        }

        public string String(JsonObject obj, string field) =>
            obj[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
            : throw Fail(field, obj.ContainsKey(field) ? "must be a string" : "is missing");

        public string NonEmpty(JsonObject obj, string field) =>
            String(obj, field) is { Length: > 0 } s ? s : throw Fail(field, "must not be empty");

        public string? OptionalString(JsonObject obj, string field) =>
            obj.ContainsKey(field) && obj[field] is not null ? String(obj, field) : null;

        public int Int(JsonObject obj, string field) =>
            obj[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) && !v.ToJsonString().Contains('.', StringComparison.Ordinal) ? n
            : throw Fail(field, obj.ContainsKey(field) ? "must be an integer" : "is missing");

        public DateTimeOffset? Time(JsonObject obj, string field, bool optional = false)
        {
            if (optional && (!obj.ContainsKey(field) || obj[field] is null))
            {
                return null;
            }
            var text = String(obj, field);
            return TryParseTime(text, out var t) ? t
                : throw Fail(field, $"\"{text}\" is not a UTC RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.fraction]Z; the format requires UTC)");
        }
    }
}
