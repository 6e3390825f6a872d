using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace Signet.Canonicalization;

/// <summary>
/// Parses JSON into <see cref="JsonNode"/> the way evidence needs it read: one value, no comments or trailing
/// commas, no lone surrogates, no non-finite numbers, duplicate keys refused (or last-wins when asked), and numbers
/// kept as their original lexeme so that forwarding them changes nothing.
/// </summary>
/// <remarks>
/// The bytes must be UTF-8 throughout, inside strings and outside: an overlong form, a surrogate encoded in UTF-8,
/// a truncated sequence or a stray byte 0x80-0xFF is refused as <see cref="JsonParseErrorKind.InvalidUtf8"/> with the
/// offset of its first byte. Every refusal is a <see cref="JsonParseException"/>.
/// </remarks>
public static class StrictJson
{
    /// <summary>Parses UTF-8 JSON. Throws <see cref="JsonParseException"/> on anything that is not one valid value.</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8Json, StrictJsonOptions? options = null)
    {
        options ??= StrictJsonOptions.Default;
        if (utf8Json.Length >= 3 && utf8Json[0] == 0xEF && utf8Json[1] == 0xBB && utf8Json[2] == 0xBF)
        {
            throw new JsonParseException("a byte order mark is not allowed", 1, 1, "$", 0, JsonParseErrorKind.ByteOrderMark);
        }
        // System.Text.Json does not check the UTF-8 of an unescaped string until it is decoded (a tree built on the fast
        // path would throw later, far from here), so the whole text is checked first: one vectorized pass.
        if (!Utf8.IsValid(utf8Json))
        {
            throw InvalidUtf8(utf8Json);
        }

        // Fast path: one validating scan, then System.Text.Json's own document-backed tree. Anything unusual
        // (an error, a repeated key) takes the slow path below, which builds the tree itself and reports the place.
        if (IsPlain(utf8Json, options))
        {
            try
            {
                return JsonNode.Parse(utf8Json, documentOptions: new JsonDocumentOptions { MaxDepth = options.MaxDepth });
            }
            catch (JsonException)
            {
                // Fall through: the slow path reports the error with its place.
            }
        }

        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            // The reader counts depth from 0 at the top-level container; we enforce our own limit below.
            MaxDepth = options.MaxDepth + 1,
        });
        var path = new PathTracker();
        try
        {
            if (!reader.Read())
            {
                throw Error(utf8Json, 0, "empty document", path);
            }

            var node = ReadValue(ref reader, utf8Json, options, path, depth: 0);
            if (reader.Read())
            {
                throw Error(utf8Json, reader.TokenStartIndex, "trailing characters after the JSON value", path);
            }
            return node;
        }
        catch (JsonException e)
        {
            var line = (e.LineNumber ?? 0) + 1;
            var column = (e.BytePositionInLine ?? 0) + 1;
            var kind = e.Message.Contains("maximum configured depth", StringComparison.Ordinal) ? JsonParseErrorKind.TooDeep : JsonParseErrorKind.Syntax;
            throw new JsonParseException(CleanReaderMessage(e.Message), line, column, path.ToString(), OffsetOf(utf8Json, line, column), kind);
        }
    }

    /// <summary>Parses a JSON string. Throws <see cref="JsonParseException"/> on anything that is not one valid value.</summary>
    /// <remarks>A lone surrogate in the string itself is refused (it has no UTF-8 form), never replaced.</remarks>
    public static JsonNode? Parse(string json, StrictJsonOptions? options = null) => Parse(ToUtf8(json), options);

    /// <summary>The UTF-8 bytes of JSON text held in a string; a lone surrogate is refused, never replaced.</summary>
    internal static byte[] ToUtf8(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return StrictUtf8.GetBytes(json);
        }
        catch (EncoderFallbackException e)
        {
            var prefix = StrictUtf8.GetBytes(json.AsSpan(0, Math.Clamp(e.Index, 0, json.Length)).ToString());
            var (line, column) = LineAndColumn(prefix, prefix.Length);
            var unit = e.CharUnknown != default ? e.CharUnknown : e.CharUnknownHigh;
            throw new JsonParseException($"lone surrogate U+{(int)unit:X4} in the text (not valid Unicode)",
                line, column, "$", prefix.Length, JsonParseErrorKind.LoneSurrogate);
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The zero-based offset of the first byte that is not part of a valid UTF-8 sequence, or -1.</summary>
    public static int IndexOfInvalidUtf8(ReadOnlySpan<byte> utf8)
    {
        if (Utf8.IsValid(utf8))
        {
            return -1; // the common case, in one vectorized pass
        }
        var i = 0;
        while (i < utf8.Length)
        {
            var ascii = utf8[i..].IndexOfAnyExceptInRange((byte)0, (byte)0x7F);
            if (ascii < 0)
            {
                return -1;
            }
            i += ascii;
            if (Rune.DecodeFromUtf8(utf8[i..], out _, out var consumed) != OperationStatus.Done)
            {
                return i;
            }
            i += consumed;
        }
        return -1;
    }

    private static JsonParseException InvalidUtf8(ReadOnlySpan<byte> source)
    {
        var offset = IndexOfInvalidUtf8(source);
        Rune.DecodeFromUtf8(source[offset..], out _, out var consumed);
        var bad = source.Slice(offset, Math.Max(1, consumed));
        var bytes = string.Join(" ", bad.ToArray().Select(b => $"0x{b:X2}"));
        var (line, column) = LineAndColumn(source, offset);
        return new JsonParseException($"invalid UTF-8 (byte{(bad.Length > 1 ? "s" : "")} {bytes}); the text must be UTF-8",
            line, column, "$", offset, JsonParseErrorKind.InvalidUtf8);
    }

    /// <summary>Parses, returning false and the error instead of throwing.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, out JsonNode? node, out JsonParseException? error, StrictJsonOptions? options = null)
    {
        try
        {
            node = Parse(utf8Json, options);
            error = null;
            return true;
        }
        catch (JsonParseException e)
        {
            node = null;
            error = e;
            return false;
        }
    }

    /// <summary>True when the text is one valid value with no repeated keys, lone surrogates or overflowing numbers.</summary>
    private static bool IsPlain(ReadOnlySpan<byte> utf8Json, StrictJsonOptions options)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            MaxDepth = options.MaxDepth,
        });
        var keys = new List<HashSet<string>?>();
        try
        {
            if (!reader.Read())
            {
                return false;
            }
            do
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        keys.Add(null);
                        break;
                    case JsonTokenType.StartArray:
                        keys.Add(null);
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        keys.RemoveAt(keys.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        var set = keys[^1] ??= new HashSet<string>(StringComparer.Ordinal);
                        if (!set.Add(reader.GetString()!))
                        {
                            return false;
                        }
                        break;
                    case JsonTokenType.String:
                        if (reader.ValueIsEscaped)
                        {
                            _ = reader.GetString(); // throws on a lone surrogate
                        }
                        break;
                    case JsonTokenType.Number:
                        if (!NumberLexeme.IsFinite(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan))
                        {
                            return false;
                        }
                        break;
                }
            }
            while (reader.Read());
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static JsonNode? ReadValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> source, StrictJsonOptions options, PathTracker path, int depth)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                {
                    if (depth + 1 > options.MaxDepth)
                    {
                        throw Error(source, reader.TokenStartIndex, $"nesting deeper than {options.MaxDepth} levels", path, JsonParseErrorKind.TooDeep);
                    }
                    var obj = new JsonObject();
                    while (true)
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.EndObject)
                        {
                            return obj;
                        }
                        var keyStart = reader.TokenStartIndex;
                        var key = ReadString(ref reader, source, path);
                        path.Push(key);
                        reader.Read();
                        var value = ReadValue(ref reader, source, options, path, depth + 1);
                        if (obj.ContainsKey(key))
                        {
                            if (options.DuplicateKeys == DuplicateKeyPolicy.Reject)
                            {
                                throw Error(source, keyStart, $"duplicate key \"{key}\"", path, JsonParseErrorKind.DuplicateKey);
                            }
                            obj[key] = value;
                        }
                        else
                        {
                            obj.Add(key, value);
                        }
                        path.Pop();
                    }
                }
            case JsonTokenType.StartArray:
                {
                    if (depth + 1 > options.MaxDepth)
                    {
                        throw Error(source, reader.TokenStartIndex, $"nesting deeper than {options.MaxDepth} levels", path, JsonParseErrorKind.TooDeep);
                    }
                    var array = new JsonArray();
                    var index = 0;
                    while (true)
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.EndArray)
                        {
                            return array;
                        }
                        path.Push(index++);
                        array.Add(ReadValue(ref reader, source, options, path, depth + 1));
                        path.Pop();
                    }
                }
            case JsonTokenType.String:
                return JsonValue.Create(ReadString(ref reader, source, path));
            case JsonTokenType.Number:
                {
                    var start = reader.TokenStartIndex;
                    var lexeme = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray();
                    if (!NumberLexeme.IsFinite(lexeme))
                    {
                        throw Error(source, start, "number out of range (it overflows a 64-bit float)", path, JsonParseErrorKind.NumberOutOfRange);
                    }
                    return JsonValue.Create(JsonElement.ParseValue(ref reader));
                }
            case JsonTokenType.True:
                return JsonValue.Create(true);
            case JsonTokenType.False:
                return JsonValue.Create(false);
            case JsonTokenType.Null:
                return null;
            default:
                throw Error(source, reader.TokenStartIndex, $"unexpected token {reader.TokenType}", path);
        }
    }

    private static string ReadString(ref Utf8JsonReader reader, ReadOnlySpan<byte> source, PathTracker path)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw Error(source, reader.TokenStartIndex, "lone surrogate in a \\u escape (not valid Unicode)", path, JsonParseErrorKind.LoneSurrogate);
        }
    }

    private static JsonParseException Error(ReadOnlySpan<byte> source, long offset, string reason, PathTracker path, JsonParseErrorKind kind = JsonParseErrorKind.Syntax)
    {
        var end = (int)Math.Min(offset, source.Length);
        var (line, column) = LineAndColumn(source, end);
        return new JsonParseException(reason, line, column, path.ToString(), end, kind);
    }

    private static (long Line, long Column) LineAndColumn(ReadOnlySpan<byte> source, int end)
    {
        long line = 1;
        var lineStart = 0;
        for (var i = source[..end].IndexOf((byte)'\n'); i >= 0; i = source[lineStart..end].IndexOf((byte)'\n'))
        {
            line++;
            lineStart += i + 1;
        }
        return (line, end - lineStart + 1);
    }

    /// <summary>The byte offset of a one-based line and byte column, as the reader reports them.</summary>
    private static long OffsetOf(ReadOnlySpan<byte> source, long line, long column)
    {
        var start = 0;
        for (var l = 1L; l < line; l++)
        {
            var nl = source[start..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                break;
            }
            start += nl + 1;
        }
        return Math.Min(source.Length, start + column - 1);
    }

    private static string CleanReaderMessage(string message)
    {
        // System.Text.Json appends its own " LineNumber: … | BytePositionInLine: …"; we report the place ourselves.
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }

    private sealed class PathTracker
    {
        private readonly List<object> _segments = [];

        public void Push(string key) => _segments.Add(key);

        public void Push(int index) => _segments.Add(index);

        public void Pop() => _segments.RemoveAt(_segments.Count - 1);

        public override string ToString() => JsonPath.Format(_segments);
    }
}

/// <summary>Formats JSON paths for error messages.</summary>
internal static class JsonPath
{
    public static string Format(IEnumerable<object> segments)
    {
        var sb = new StringBuilder("$");
        foreach (var segment in segments)
        {
            if (segment is int index)
            {
                sb.Append('[').Append(index).Append(']');
            }
            else
            {
                var key = (string)segment;
                if (key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                {
                    sb.Append('.').Append(key);
                }
                else
                {
                    sb.Append("[\"").Append(key.Replace("\"", "\\\"", StringComparison.Ordinal)).Append("\"]");
                }
            }
        }
        return sb.ToString();
    }
}
