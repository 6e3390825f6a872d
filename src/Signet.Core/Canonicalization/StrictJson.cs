using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Signet.Canonicalization;

/// <summary>What a parser does when an object repeats a key.</summary>
public enum DuplicateKeyPolicy
{
    /// <summary>Reject the document (I-JSON, RFC 7493; the default).</summary>
    Reject,

    /// <summary>Keep the last value silently, as the reference Signet's serde_json parser does.</summary>
    LastWins,
}

/// <summary>Options for <see cref="StrictJson"/>.</summary>
public sealed record StrictJsonOptions
{
    /// <summary>Strict: duplicate keys rejected, at most 128 nested containers.</summary>
    public static StrictJsonOptions Default { get; } = new();

    /// <summary>What to do with a repeated key.</summary>
    public DuplicateKeyPolicy DuplicateKeys { get; init; } = DuplicateKeyPolicy.Reject;

    /// <summary>The deepest nesting of objects and arrays accepted.</summary>
    /// <remarks>The reference parser (serde_json) accepts 127; one more lets this side read an audit record around a maximal receipt.</remarks>
    public int MaxDepth { get; init; } = 128;
}

/// <summary>A JSON document that could not be parsed, with the place and the reason.</summary>
public sealed class JsonParseException : SignetException
{
    /// <summary>Creates the exception.</summary>
    public JsonParseException(string reason, long line, long column, string path)
        : base($"invalid JSON at line {line}, column {column} ({path}): {reason}")
    {
        Reason = reason;
        Line = line;
        Column = column;
        Path = path;
    }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }

    /// <summary>One-based line of the problem.</summary>
    public long Line { get; }

    /// <summary>One-based column (in bytes) of the problem.</summary>
    public long Column { get; }

    /// <summary>The JSON path of the value being read, e.g. <c>$.action.tool</c>.</summary>
    public string Path { get; }
}

/// <summary>
/// Parses JSON into <see cref="JsonNode"/> the way evidence needs it read: one value, no comments or trailing
/// commas, no lone surrogates, no non-finite numbers, duplicate keys refused (or last-wins when asked), and numbers
/// kept as their original lexeme so that forwarding them changes nothing.
/// </summary>
public static class StrictJson
{
    /// <summary>Parses UTF-8 JSON. Throws <see cref="JsonParseException"/> on anything that is not one valid value.</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8Json, StrictJsonOptions? options = null)
    {
        options ??= StrictJsonOptions.Default;
        if (utf8Json.Length >= 3 && utf8Json[0] == 0xEF && utf8Json[1] == 0xBB && utf8Json[2] == 0xBF)
        {
            throw new JsonParseException("a byte order mark is not allowed", 1, 1, "$");
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
            throw new JsonParseException(CleanReaderMessage(e.Message), line, column, path.ToString());
        }
    }

    /// <summary>Parses a JSON string. Throws <see cref="JsonParseException"/> on anything that is not one valid value.</summary>
    public static JsonNode? Parse(string json, StrictJsonOptions? options = null) => Parse(Encoding.UTF8.GetBytes(json), options);

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
                        throw Error(source, reader.TokenStartIndex, $"nesting deeper than {options.MaxDepth} levels", path);
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
                                throw Error(source, keyStart, $"duplicate key \"{key}\"", path);
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
                        throw Error(source, reader.TokenStartIndex, $"nesting deeper than {options.MaxDepth} levels", path);
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
                        throw Error(source, start, "number out of range (it overflows a 64-bit float)", path);
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
            throw Error(source, reader.TokenStartIndex, "lone surrogate in a \\u escape (not valid Unicode)", path);
        }
    }

    private static JsonParseException Error(ReadOnlySpan<byte> source, long offset, string reason, PathTracker path)
    {
        long line = 1, column = 1;
        var end = (int)Math.Min(offset, source.Length);
        for (var i = 0; i < end; i++)
        {
            if (source[i] == (byte)'\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }
        return new JsonParseException(reason, line, column, path.ToString());
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
