using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using NSec.Cryptography;
using Signet.Canonicalization;

namespace Signet.Keys;

/// <summary>Argon2id cost parameters as the key file stores them: <c>m</c> in KiB, <c>t</c> passes, <c>p</c> lanes.</summary>
internal readonly record struct Argon2Cost(long MemoryKiB, long Passes, long Parallelism)
{
    /// <summary>What the reference Signet writes: m = 64 MiB, t = 3, p = 1.</summary>
    public static Argon2Cost Reference { get; } = new(65536, 3, 1);

    // Bounds we accept when reading: libsodium needs p = 1; the upper bounds stop a hostile file from
    // making a load take gigabytes or minutes.
    public const long MinMemoryKiB = 8;
    public const long MaxMemoryKiB = 4 * 1024 * 1024;
    public const long MaxPasses = 64;
}

/// <summary>The parsed content of a <c>.key</c> file (FORMAT.md §7).</summary>
internal sealed class KeyFileContents
{
    public required string Name { get; init; }
    public byte[]? Seed { get; init; }
    public Argon2Cost Cost { get; init; }
    public byte[] Salt { get; init; } = [];
    public byte[] Nonce { get; init; } = [];
    public byte[] Ciphertext { get; init; } = [];
    public bool Encrypted => Seed is null;
}

/// <summary>A public key file, <c>NAME.pub</c> (FORMAT.md §7): the key with its name, owner and creation time.</summary>
/// <param name="Name">The key's name as the file records it.</param>
/// <param name="PublicKey">The public key.</param>
/// <param name="Owner">The owner, or <c>""</c>.</param>
/// <param name="CreatedAt">The <c>created_at</c> text, if present.</param>
public sealed record PublicKeyFile(string Name, PublicKey PublicKey, string Owner, string? CreatedAt)
{
    /// <summary>Reads a <c>.pub</c> file (for example one given to <c>verify --pubkey</c>).</summary>
    /// <exception cref="KeyStoreException">The file is missing, unreadable or not a valid public key file.</exception>
    public static PublicKeyFile Read(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > KeyFile.MaxFileSize)
            {
                throw new KeyStoreException($"{path}: {info.Length} bytes is too large for a public key file; check the path", path);
            }
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyStoreException($"cannot read public key file {path} ({e.Message}); check the path", path, e);
        }
        return KeyFile.ParsePublic(bytes, problem => new KeyStoreException($"{path}: {problem}; this is not a valid Signet .pub file", path));
    }
}

/// <summary>Reads and writes the reference Signet's key file formats, byte for byte compatible in meaning.</summary>
internal static class KeyFile
{
    public const string Algorithm = "ed25519";
    public const string Kdf = "argon2id";
    public const string Cipher = "xchacha20poly1305";
    public const int SeedSize = 32;
    public const int SaltSize = 16;
    public const int NonceSize = 24;
    public const int TagSize = 16;
    public const int MaxFileSize = 64 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static byte[] WriteUnencrypted(string name, ReadOnlySpan<byte> seed)
    {
        var seedText = Convert.ToBase64String(seed);
        return Write(w =>
        {
            WriteHeader(w, name);
            w.WriteString("seed", seedText);
        });
    }

    public static byte[] WriteEncrypted(string name, ReadOnlySpan<byte> seed, string passphrase, Argon2Cost cost, RandomSource random)
    {
        Span<byte> salt = stackalloc byte[SaltSize];
        Span<byte> nonce = stackalloc byte[NonceSize];
        random.Fill(salt);
        random.Fill(nonce);
        var ciphertext = new byte[SeedSize + TagSize];
        var aad = AssociatedData(name, cost);
        using (var key = DeriveKey(passphrase, salt, cost))
        {
            AeadAlgorithm.XChaCha20Poly1305.Encrypt(key, nonce, aad, seed, ciphertext);
        }
        var saltText = Convert.ToBase64String(salt);
        var nonceText = Convert.ToBase64String(nonce);
        return Write(w =>
        {
            WriteHeader(w, name);
            w.WriteString("kdf", Kdf);
            w.WriteStartObject("kdf_params");
            w.WriteNumber("t", cost.Passes);
            w.WriteNumber("m", cost.MemoryKiB);
            w.WriteNumber("p", cost.Parallelism);
            w.WriteEndObject();
            w.WriteString("salt", saltText);
            w.WriteString("cipher", Cipher);
            w.WriteString("nonce", nonceText);
            w.WriteString("ciphertext", Convert.ToBase64String(ciphertext));
        });
    }

    public static byte[] WritePublic(string name, PublicKey key, string? owner, string createdAt) => Write(w =>
    {
        WriteHeader(w, name);
        w.WriteString("pubkey", Convert.ToBase64String(key.Bytes));
        if (!string.IsNullOrEmpty(owner))
        {
            w.WriteString("owner", owner);
        }
        w.WriteString("created_at", createdAt);
    });

    /// <summary>The reference's <c>created_at</c> form: RFC 3339 with nanoseconds and a <c>+00:00</c> offset.</summary>
    public static string FormatCreatedAt(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var nanos = utc.Ticks % TimeSpan.TicksPerSecond * 100;
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "." + nanos.ToString("D9", CultureInfo.InvariantCulture) + "+00:00";
    }

    /// <summary>The AEAD associated data: JCS of the header with <c>name</c> and <c>kdf_params</c> from the file.</summary>
    public static byte[] AssociatedData(string name, Argon2Cost cost) => JsonCanonicalizer.Canonicalize(new JsonObject
    {
        ["v"] = 1,
        ["algorithm"] = Algorithm,
        ["name"] = name,
        ["kdf"] = Kdf,
        ["kdf_params"] = new JsonObject { ["m"] = cost.MemoryKiB, ["p"] = cost.Parallelism, ["t"] = cost.Passes },
        ["cipher"] = Cipher,
    });

    /// <summary>Argon2id v1.3 over the UTF-8 bytes of the passphrase, 32 bytes out, as an XChaCha20-Poly1305 key.</summary>
    public static Key DeriveKey(string passphrase, ReadOnlySpan<byte> salt, Argon2Cost cost)
    {
        var kdf = PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters
        {
            DegreeOfParallelism = (int)cost.Parallelism,
            MemorySize = cost.MemoryKiB,
            NumberOfPasses = cost.Passes,
        });
        var password = Encoding.UTF8.GetBytes(passphrase);
        Span<byte> derived = stackalloc byte[32];
        try
        {
            kdf.DeriveBytes(password, salt, derived);
            return Key.Import(AeadAlgorithm.XChaCha20Poly1305, derived, KeyBlobFormat.RawSymmetricKey);
        }
        finally
        {
            Array.Clear(password);
            derived.Clear();
        }
    }

    /// <summary>Decrypts the seed; false when the passphrase is wrong or the file was altered.</summary>
    public static bool TryDecrypt(KeyFileContents file, string passphrase, Span<byte> seed)
    {
        var aad = AssociatedData(file.Name, file.Cost);
        using var key = DeriveKey(passphrase, file.Salt, file.Cost);
        return AeadAlgorithm.XChaCha20Poly1305.Decrypt(key, file.Nonce, aad, file.Ciphertext, seed);
    }

    /// <summary>Parses a <c>.key</c> file; <paramref name="fail"/> builds the exception for a problem.</summary>
    public static KeyFileContents ParseKey(ReadOnlySpan<byte> bytes, Func<string, Exception> fail)
    {
        var root = ParseObject(bytes, fail);
        var name = CheckHeader(root, fail);
        if (!root.ContainsKey("kdf"))
        {
            var seed = Base64Field(root, "seed", SeedSize, fail);
            return new KeyFileContents { Name = name, Seed = seed };
        }

        var kdf = StringField(root, "kdf", fail);
        if (kdf != Kdf)
        {
            throw fail($"unsupported kdf \"{kdf}\" (this Signet reads \"{Kdf}\")");
        }
        var cipher = StringField(root, "cipher", fail);
        if (cipher != Cipher)
        {
            throw fail($"unsupported cipher \"{cipher}\" (this Signet reads \"{Cipher}\")");
        }
        if (root["kdf_params"] is not JsonObject parameters)
        {
            throw fail(root.ContainsKey("kdf_params") ? "field \"kdf_params\" must be an object" : "field \"kdf_params\" is missing");
        }
        var m = IntegerField(parameters, "m", "kdf_params.m", fail);
        var t = IntegerField(parameters, "t", "kdf_params.t", fail);
        var p = IntegerField(parameters, "p", "kdf_params.p", fail);
        if (p != 1)
        {
            throw fail($"unsupported kdf_params.p = {p} (Argon2id here runs with p = 1 only)");
        }
        if (m < Argon2Cost.MinMemoryKiB || m > Argon2Cost.MaxMemoryKiB)
        {
            throw fail($"unsupported kdf_params.m = {m} (accepted: {Argon2Cost.MinMemoryKiB} to {Argon2Cost.MaxMemoryKiB} KiB)");
        }
        if (t < 1 || t > Argon2Cost.MaxPasses)
        {
            throw fail($"unsupported kdf_params.t = {t} (accepted: 1 to {Argon2Cost.MaxPasses})");
        }
        return new KeyFileContents
        {
            Name = name,
            Cost = new Argon2Cost(m, t, p),
            Salt = Base64Field(root, "salt", SaltSize, fail),
            Nonce = Base64Field(root, "nonce", NonceSize, fail),
            Ciphertext = Base64Field(root, "ciphertext", SeedSize + TagSize, fail),
        };
    }

    /// <summary>Parses a <c>.pub</c> file.</summary>
    public static PublicKeyFile ParsePublic(ReadOnlySpan<byte> bytes, Func<string, Exception> fail)
    {
        var root = ParseObject(bytes, fail);
        var name = CheckHeader(root, fail);
        var text = StringField(root, "pubkey", fail);
        if (!PublicKey.TryParse(text, out var key, out var error))
        {
            throw fail($"field \"pubkey\": {error}");
        }
        var owner = OptionalStringField(root, "owner", fail) ?? "";
        var createdAt = OptionalStringField(root, "created_at", fail);
        return new PublicKeyFile(name, key, owner, createdAt);
    }

    private static JsonObject ParseObject(ReadOnlySpan<byte> bytes, Func<string, Exception> fail)
    {
        if (bytes.IsEmpty)
        {
            throw fail("the file is empty");
        }
        JsonNode? node;
        try
        {
            node = StrictJson.Parse(bytes);
        }
        catch (JsonParseException e)
        {
            throw fail($"not valid JSON at line {e.Line}, column {e.Column}, byte offset {e.ByteOffset} ({e.Reason}); the file is truncated or damaged");
        }
        return node as JsonObject ?? throw fail("the file is not a JSON object");
    }

    private static string CheckHeader(JsonObject root, Func<string, Exception> fail)
    {
        var v = IntegerField(root, "v", "v", fail);
        if (v != 1)
        {
            throw fail($"unsupported version v = {v} (this Signet reads version 1)");
        }
        var algorithm = StringField(root, "algorithm", fail);
        if (algorithm != Algorithm)
        {
            throw fail($"unsupported algorithm \"{algorithm}\" (this Signet reads \"{Algorithm}\")");
        }
        return StringField(root, "name", fail);
    }

    private static string StringField(JsonObject obj, string field, Func<string, Exception> fail)
    {
        if (!obj.TryGetPropertyValue(field, out var node) || node is null)
        {
            throw fail($"field \"{field}\" is missing");
        }
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            return value.GetValue<string>();
        }
        throw fail($"field \"{field}\" must be a string, not {Kind(node)}");
    }

    private static string? OptionalStringField(JsonObject obj, string field, Func<string, Exception> fail)
    {
        if (!obj.TryGetPropertyValue(field, out var node) || node is null)
        {
            return null;
        }
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            return value.GetValue<string>();
        }
        throw fail($"field \"{field}\" must be a string, not {Kind(node)}");
    }

    private static long IntegerField(JsonObject obj, string field, string displayName, Func<string, Exception> fail)
    {
        if (!obj.TryGetPropertyValue(field, out var node) || node is null)
        {
            throw fail($"field \"{displayName}\" is missing");
        }
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            && value.TryGetValue<JsonElement>(out var element) && element.TryGetInt64(out var number))
        {
            return number;
        }
        var actual = node.GetValueKind() == JsonValueKind.Number ? node.ToJsonString() : Kind(node);
        throw fail($"field \"{displayName}\" must be an integer, not {actual}");
    }

    private static byte[] Base64Field(JsonObject obj, string field, int size, Func<string, Exception> fail)
    {
        var text = StringField(obj, field, fail);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw fail($"field \"{field}\" is not valid base64");
        }
        if (bytes.Length != size)
        {
            Array.Clear(bytes);
            throw fail($"field \"{field}\" holds {bytes.Length} bytes, expected {size}");
        }
        return bytes;
    }

    private static string Kind(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void WriteHeader(Utf8JsonWriter writer, string name)
    {
        writer.WriteNumber("v", 1);
        writer.WriteString("algorithm", Algorithm);
        writer.WriteString("name", name);
    }
}
