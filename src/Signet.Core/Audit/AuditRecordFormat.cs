using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Canonicalization;

namespace Signet.Audit;

/// <summary>The record line and its hash, exactly as the reference defines them (FORMAT.md §4).</summary>
internal static class AuditRecordFormat
{
    public const string Extension = ".jsonl";

    /// <summary>Where moved-aside torn tails go; not <c>*.jsonl</c>, so no chain walker reads them.</summary>
    public const string TornSuffix = ".torn";

    /// <summary>Where <c>signet log repair</c> moves a corrupt last line; not <c>*.jsonl</c> either.</summary>
    public const string RepairSuffix = ".corrupt";

    private static readonly JsonWriterOptions CompactWriter = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = false,
    };

    private static readonly byte[] HashPrefix = "{\"prev_hash\":\""u8.ToArray();
    private static readonly byte[] HashMiddle = "\",\"receipt\":"u8.ToArray();
    private static readonly byte[] HashSuffix = "}"u8.ToArray();

    /// <summary>The receipt's compact JSON form as written inside a record.</summary>
    public static byte[] SerializeCompact(JsonNode node)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, CompactWriter))
        {
            node.WriteTo(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// <c>sha256(JCS({"prev_hash": prev, "receipt": receipt}))</c>, built from the receipt's canonical bytes:
    /// "prev_hash" sorts before "receipt" and a well-formed hash needs no escaping, so the canonical object is
    /// a fixed frame around the two.
    /// </summary>
    public static string RecordHash(string prevHash, ReadOnlySpan<byte> canonicalReceipt)
    {
        var length = HashPrefix.Length + prevHash.Length * 3 + HashMiddle.Length + canonicalReceipt.Length + HashSuffix.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var span = rented.AsSpan();
            HashPrefix.CopyTo(span);
            var n = HashPrefix.Length;
            n += Encoding.UTF8.GetBytes(prevHash, span[n..]);
            HashMiddle.CopyTo(span[n..]);
            n += HashMiddle.Length;
            canonicalReceipt.CopyTo(span[n..]);
            n += canonicalReceipt.Length;
            HashSuffix.CopyTo(span[n..]);
            n += HashSuffix.Length;
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(span[..n], hash);
            return "sha256:" + Convert.ToHexStringLower(hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The general form, for a prev_hash read from a file that may need escaping.</summary>
    public static string RecordHash(string prevHash, JsonNode receipt)
    {
        if (SignetHash.IsWellFormed(prevHash))
        {
            return RecordHash(prevHash, JsonCanonicalizer.Canonicalize(receipt));
        }
        var hashable = new JsonObject { ["prev_hash"] = prevHash, ["receipt"] = receipt.DeepClone() };
        return JsonCanonicalizer.Sha256(hashable);
    }

    /// <summary>Writes <c>{"receipt":…,"prev_hash":…,"record_hash":…}\n</c>.</summary>
    public static void WriteLine(IBufferWriter<byte> output, ReadOnlySpan<byte> receiptJson, string prevHash, string recordHash)
    {
        Append(output, "{\"receipt\":"u8);
        Append(output, receiptJson);
        Append(output, ",\"prev_hash\":\""u8);
        AppendAscii(output, prevHash);
        Append(output, "\",\"record_hash\":\""u8);
        AppendAscii(output, recordHash);
        Append(output, "\"}\n"u8);
    }

    private static void Append(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }

    private static void AppendAscii(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(text.Length);
        var n = Encoding.ASCII.GetBytes(text, span);
        output.Advance(n);
    }

    /// <summary>
    /// Checks and hashes an ordinary record line without building a tree: the line is read once, the receipt is
    /// canonicalized from its bytes straight into the hashed frame, and every other value is validated as the strict
    /// parser would. Returns false for anything unusual (any error, a repeated key, a prev_hash that is not
    /// well-formed, an escaped hash string); <see cref="TryParse"/> and <see cref="RecordHash(string, JsonNode)"/>
    /// then give the exact answer or error.
    /// </summary>
    public static bool TryHashRecord(ReadOnlySpan<byte> line, out string prevHash, out string recordHash, out string recomputed)
    {
        prevHash = recordHash = recomputed = "";
        if (line.StartsWith("\uFEFF"u8))
        {
            return false;
        }
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            writer.Configure(StrictJsonOptions.Default);
            // The frame {"prev_hash":"…","receipt":…}: prev_hash is filled in when it is read (it follows the receipt in a line).
            writer.Bytes(HashPrefix);
            var prevAt = writer.Length;
            writer.Bytes(GenesisBytes); // a placeholder of the right length
            writer.Bytes(HashMiddle);
            var reader = Utf8CanonicalWriter.NewReader(line, StrictJsonOptions.Default.MaxDepth);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            var firstKey = writer.MemberCount;
            var receiptEnd = -1;
            ReadOnlySpan<byte> prev = default, hash = default;
            bool havePrev = false, haveHash = false;
            while (true)
            {
                if (!reader.Read())
                {
                    return false;
                }
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }
                int field;
                try
                {
                    field = reader.ValueTextEquals("receipt"u8) ? 1 : reader.ValueTextEquals("prev_hash"u8) ? 2 : reader.ValueTextEquals("record_hash"u8) ? 3 : 0;
                }
                catch (InvalidOperationException)
                {
                    return false; // an escaped lone surrogate in the name: the tree path reports it
                }
                if (!writer.TryAddKey(ref reader) || !reader.Read())
                {
                    return false;
                }
                switch (field)
                {
                    case 1:
                        if (receiptEnd >= 0 || reader.TokenType != JsonTokenType.StartObject || !writer.TryWriteValue(ref reader, depth: 1, canonicalNumbers: true))
                        {
                            return false;
                        }
                        receiptEnd = writer.Length;
                        break;
                    case 2 or 3:
                        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || !System.Text.Unicode.Utf8.IsValid(reader.ValueSpan))
                        {
                            return false;
                        }
                        if (field == 2)
                        {
                            prev = reader.ValueSpan;
                            havePrev = true;
                        }
                        else
                        {
                            hash = reader.ValueSpan;
                            haveHash = true;
                        }
                        break;
                    default:
                        {
                            // Another member: validated like the strict parser (numbers only need to be finite), not hashed.
                            var mark = writer.Length;
                            if (!writer.TryWriteValue(ref reader, depth: 1, canonicalNumbers: false))
                            {
                                return false;
                            }
                            writer.Truncate(mark);
                            break;
                        }
                }
            }
            if (reader.Read() || receiptEnd < 0 || !havePrev || !haveHash || !IsWellFormedHash(prev) || writer.HasRepeatedKey(firstKey))
            {
                return false;
            }
            prev.CopyTo(writer.Slice(prevAt, prev.Length));
            writer.Truncate(receiptEnd);
            writer.Bytes(HashSuffix);
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(writer.Written, digest);
            recomputed = "sha256:" + Convert.ToHexStringLower(digest);
            prevHash = Encoding.ASCII.GetString(prev);
            recordHash = hash.SequenceEqual(Encoding.ASCII.GetBytes(recomputed)) ? recomputed : Encoding.UTF8.GetString(hash);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
    }

    private static readonly byte[] GenesisBytes = Encoding.ASCII.GetBytes(SignetHash.Genesis);

    private static bool IsWellFormedHash(ReadOnlySpan<byte> value) =>
        value.Length == 71 && value.StartsWith("sha256:"u8) && value[7..].IndexOfAnyExcept("0123456789abcdef"u8) < 0;

    /// <summary>Parses one record line. Returns null and a reason when the line is not a record.</summary>
    public static ParsedRecord? TryParse(ReadOnlySpan<byte> line, out string? error, out bool duplicateKey)
    {
        duplicateKey = false;
        JsonNode? node;
        try
        {
            node = StrictJson.Parse(line);
        }
        catch (JsonParseException e)
        {
            duplicateKey = e.Kind == JsonParseErrorKind.DuplicateKey;
            // The caller names the file and line; the parser's own line is always 1 here.
            error = $"invalid JSON at byte offset {e.ByteOffset} of the line{(e.Path == "$" ? "" : $" ({e.Path})")}: {e.Reason}";
            return null;
        }
        if (node is not JsonObject obj)
        {
            error = "the line is not a JSON object";
            return null;
        }
        if (obj["receipt"] is not JsonObject receipt)
        {
            error = "the record has no \"receipt\" object";
            return null;
        }
        if (!TryGetString(obj, "prev_hash", out var prev) || !TryGetString(obj, "record_hash", out var hash))
        {
            error = "the record has no \"prev_hash\" or \"record_hash\" string";
            return null;
        }
        error = null;
        return new ParsedRecord(receipt, prev, hash);
    }

    private static bool TryGetString(JsonObject obj, string name, out string value)
    {
        if (obj[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            value = v.GetValue<string>();
            return true;
        }
        value = "";
        return false;
    }

    /// <summary>True for a day-file name, <c>YYYY-MM-DD.jsonl</c>.</summary>
    public static bool IsDayFileName(string name) =>
        name.Length == 16 && name.EndsWith(Extension, StringComparison.Ordinal) &&
        DateOnly.TryParseExact(name.AsSpan(0, 10), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out _);

    /// <summary>The day-file name for an instant (UTC date).</summary>
    public static string DayFileName(DateTimeOffset now) =>
        now.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + Extension;

    /// <summary>
    /// The day files (<c>YYYY-MM-DD.jsonl</c>), in ascending ordinal name order: the files the chain runs through. Any
    /// other <c>*.jsonl</c> in the directory is not part of the log (no writer of this implementation makes one) and is
    /// listed by <see cref="OtherJsonlFiles"/> instead of being walked.
    /// </summary>
    public static string[] ChainFiles(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }
        var files = Directory.GetFiles(directory, "*" + Extension)
            .Where(f => IsDayFileName(Path.GetFileName(f)))
            .ToArray();
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>Every <c>*.jsonl</c> in the directory that is not a day file, in ascending ordinal name order.</summary>
    public static string[] OtherJsonlFiles(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }
        var files = Directory.GetFiles(directory, "*" + Extension)
            .Where(f => f.EndsWith(Extension, StringComparison.Ordinal) && !IsDayFileName(Path.GetFileName(f)))
            .ToArray();
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>
    /// Whether a complete line can be the tail a writer continues from: a record whose <c>record_hash</c> is the hash
    /// of its own content. Returns that hash, or a reason for people.
    /// </summary>
    public static bool IsChainableRecord(ReadOnlySpan<byte> line, out string recordHash, out string reason)
    {
        recordHash = "";
        reason = "";
        if (TryHashRecord(line, out _, out var stored, out var recomputed))
        {
            if (string.Equals(stored, recomputed, StringComparison.Ordinal))
            {
                recordHash = stored;
                return true;
            }
            reason = $"its record_hash {stored} is not the hash of its content ({recomputed}): the record was changed after it was written";
            return false;
        }
        var record = TryParse(line, out var error, out _);
        if (record is null)
        {
            reason = $"it is not a record: {error}";
            return false;
        }
        string again;
        try
        {
            again = RecordHash(record.PrevHash, record.Receipt);
        }
        catch (CanonicalizationException e)
        {
            reason = $"its receipt cannot be canonicalized: {e.Message}";
            return false;
        }
        if (!string.Equals(again, record.RecordHash, StringComparison.Ordinal))
        {
            reason = $"its record_hash {record.RecordHash} is not the hash of its content ({again}): the record was changed after it was written";
            return false;
        }
        recordHash = record.RecordHash;
        return true;
    }
}

/// <summary>A parsed record line.</summary>
internal sealed record ParsedRecord(JsonObject Receipt, string PrevHash, string RecordHash);
