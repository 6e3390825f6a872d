using System.Globalization;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Signet.Receipts;

/// <summary>The text forms shared by every receipt version (FORMAT.md §1).</summary>
internal static partial class ReceiptText
{
    public const string SigPrefix = "ed25519:";

    /// <summary>Writes JSON the way the reference emits it: compact, non-ASCII raw, numbers as their lexemes.</summary>
    public static readonly JsonSerializerOptions Compact = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
        MaxDepth = 256,
    };

    public static readonly JsonSerializerOptions Indented = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
        MaxDepth = 256,
    };

    /// <summary><c>YYYY-MM-DDTHH:MM:SS.mmmZ</c>, always UTC, as the reference writes timestamps.</summary>
    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary><c>rnd_</c> + 32 lowercase hex of 16 random bytes.</summary>
    public static string Nonce(RandomSource random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.Fill(bytes);
        return "rnd_" + Convert.ToHexStringLower(bytes);
    }

    /// <summary><c>rec_</c> + lowercase hex of the first 16 bytes of SHA-256 of the raw signature.</summary>
    public static string ReceiptId(ReadOnlySpan<byte> signature) => DerivedId("rec_", signature);

    public static string DerivedId(string prefix, ReadOnlySpan<byte> signature)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(signature, hash);
        return prefix + Convert.ToHexStringLower(hash[..16]);
    }

    public static string FormatSignature(ReadOnlySpan<byte> signature) => SigPrefix + Convert.ToBase64String(signature);

    /// <summary>Decodes <c>ed25519:</c> + 88 characters of padded base64 into 64 bytes.</summary>
    public static bool TryParseSignature(string? text, out byte[] signature)
    {
        signature = [];
        if (text is null || !text.StartsWith(SigPrefix, StringComparison.Ordinal) || text.Length != SigPrefix.Length + 88)
        {
            return false;
        }
        var buffer = new byte[66];
        // Canonical base64 only: the last digit's 4 unused bits must be zero, or one signature would have 16 spellings
        // (the reference's decoder refuses them too).
        if (!Convert.TryFromBase64String(text[SigPrefix.Length..], buffer, out var written) || written != 64
            || !string.Equals(Convert.ToBase64String(buffer.AsSpan(0, 64)), text[SigPrefix.Length..], StringComparison.Ordinal))
        {
            return false;
        }
        signature = buffer[..64];
        return true;
    }

    /// <summary>Parses an RFC 3339 date-time (any offset, optional fraction).</summary>
    public static bool TryParseTimestamp(string? text, out DateTimeOffset value)
    {
        value = default;
        return text is not null && Rfc3339().IsMatch(text) &&
               DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    /// <summary>Compact UTF-8 JSON of a node, written as <see cref="Compact"/> does.</summary>
    public static byte[] ToUtf8(JsonNode node)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = 256 }))
        {
            node.WriteTo(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static string ToJson(JsonNode node, bool indented = false) =>
        node.ToJsonString(indented ? Indented : Compact);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}
