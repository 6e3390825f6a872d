using System.Text;
using System.Text.Json;

namespace Signet.Cli.Config;

/// <summary>A JSON value and where its text lies in the document (byte offsets, end exclusive).</summary>
internal sealed class JsonSpan
{
    public required JsonTokenType Kind { get; init; }

    public required int Start { get; init; }

    public int End { get; set; }

    /// <summary>The decoded value of a string token.</summary>
    public string? String { get; init; }

    public List<JsonSpanProperty>? Properties { get; init; }

    public List<JsonSpan>? Items { get; init; }

    public bool IsObject => Kind == JsonTokenType.StartObject;

    public bool IsArray => Kind == JsonTokenType.StartArray;

    public bool IsString => Kind == JsonTokenType.String;

    /// <summary>The last property with this name (JSON parsers in clients keep the last), or null.</summary>
    public JsonSpanProperty? Property(string name) => Properties?.LastOrDefault(p => p.Name == name);

    public JsonSpan? this[string name] => Property(name)?.Value;
}

/// <summary>One member of an object: its name and where the name token starts.</summary>
internal sealed record JsonSpanProperty(string Name, int NameStart, JsonSpan Value);

/// <summary>
/// Parses a config (JSON or JSONC: comments and trailing commas) into values that remember their byte
/// spans, so a rewrite can replace just the text it changes and leave the rest of the file as it was.
/// </summary>
internal static class JsonSpanTree
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 256,
    };

    /// <summary>The length of a UTF-8 byte order mark at the start of the text, or 0.</summary>
    public static int BomLength(ReadOnlySpan<byte> utf8) => utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;

    /// <summary>Parses the document; a syntax error becomes an <see cref="McpConfigException"/> with line and column.</summary>
    public static JsonSpan Parse(byte[] utf8)
    {
        var bom = BomLength(utf8);
        // The reader leaves an unescaped string's UTF-8 unchecked until it is decoded: refuse invalid bytes here, with their place.
        if (Signet.Canonicalization.StrictJson.IndexOfInvalidUtf8(utf8.AsSpan(bom)) is var bad and >= 0)
        {
            var (line, column) = Position(utf8, bom + bad);
            throw new McpConfigException($"invalid UTF-8 (byte 0x{utf8[bom + bad]:X2}) at byte offset {bom + bad}; the file must be UTF-8", line: line, column: column);
        }
        var reader = new Utf8JsonReader(utf8.AsSpan(bom), ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                throw new McpConfigException("the file holds no JSON value; expected an object such as {\"mcpServers\": {}}", line: 1, column: 1);
            }
            var root = ReadValue(ref reader, bom);
            if (reader.Read())
            {
                var (line, column) = Position(utf8, bom + (int)reader.TokenStartIndex);
                throw new McpConfigException("unexpected text after the end of the top-level value", line: line, column: column);
            }
            return root;
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0);
            var bytesInLine = (int)(e.BytePositionInLine ?? 0);
            var column = ColumnOf(utf8, bom, line, bytesInLine);
            throw new McpConfigException($"not valid JSON: {Describe(e)}", line: line + 1, column: column);
        }
    }

    /// <summary>The 1-based line and character column of a byte offset.</summary>
    public static (int Line, int Column) Position(byte[] utf8, int offset)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < offset && i < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, Encoding.UTF8.GetCharCount(utf8, lineStart, Math.Max(0, offset - lineStart)) + 1);
    }

    private static JsonSpan ReadValue(ref Utf8JsonReader reader, int bom)
    {
        var start = bom + (int)reader.TokenStartIndex;
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            {
                var node = new JsonSpan { Kind = JsonTokenType.StartObject, Start = start, Properties = [] };
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var nameStart = bom + (int)reader.TokenStartIndex;
                    var name = reader.GetString()!;
                    reader.Read();
                    node.Properties.Add(new JsonSpanProperty(name, nameStart, ReadValue(ref reader, bom)));
                }
                node.End = bom + (int)reader.BytesConsumed;
                return node;
            }
            case JsonTokenType.StartArray:
            {
                var node = new JsonSpan { Kind = JsonTokenType.StartArray, Start = start, Items = [] };
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    node.Items.Add(ReadValue(ref reader, bom));
                }
                node.End = bom + (int)reader.BytesConsumed;
                return node;
            }
            case JsonTokenType.String:
                return new JsonSpan { Kind = JsonTokenType.String, Start = start, End = bom + (int)reader.BytesConsumed, String = reader.GetString() };
            default:
                return new JsonSpan { Kind = reader.TokenType, Start = start, End = bom + (int)reader.BytesConsumed };
        }
    }

    private static int ColumnOf(byte[] utf8, int bom, int zeroBasedLine, int bytesInLine)
    {
        var lineStart = bom;
        for (var line = 0; line < zeroBasedLine && lineStart < utf8.Length; lineStart++)
        {
            if (utf8[lineStart] == (byte)'\n')
            {
                line++;
            }
        }
        var count = Math.Clamp(bytesInLine, 0, utf8.Length - lineStart);
        return Encoding.UTF8.GetCharCount(utf8, lineStart, count) + 1;
    }

    // The reader's messages end with "LineNumber: n | BytePositionInLine: m."; the place is reported separately.
    private static string Describe(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
