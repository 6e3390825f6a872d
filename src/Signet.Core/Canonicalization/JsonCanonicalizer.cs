using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Signet.Canonicalization;

/// <summary>
/// RFC 8785 (JSON Canonicalization Scheme) with the reference Signet's number rules, so both sides hash the same bytes.
/// </summary>
/// <remarks>
/// Object members are sorted by UTF-16 code units; strings use the minimal escapes; numbers use ECMAScript formatting,
/// except integer lexemes, which follow FORMAT.md §2. Values built in code (CLR numbers and strings) are accepted as
/// well as parsed ones. Thread-safe: it holds no state.
/// </remarks>
public static partial class JsonCanonicalizer
{
    [ThreadStatic]
    private static CanonicalWriter? t_writer;

    /// <summary>The canonical UTF-8 bytes of a value (<c>null</c> is JSON null).</summary>
    public static byte[] Canonicalize(JsonNode? node)
    {
        var writer = Rent();
        try
        {
            writer.Write(node);
            return writer.Written.ToArray();
        }
        finally
        {
            Return(writer);
        }
    }

    /// <summary>The canonical text of a value.</summary>
    public static string CanonicalizeToString(JsonNode? node)
    {
        var writer = Rent();
        try
        {
            writer.Write(node);
            return Encoding.UTF8.GetString(writer.Written);
        }
        finally
        {
            Return(writer);
        }
    }

    /// <summary>Parses JSON text (strictly, duplicate keys rejected) and returns its canonical text.</summary>
    public static string CanonicalizeJson(ReadOnlySpan<byte> utf8Json, StrictJsonOptions? options = null)
    {
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            return Encoding.UTF8.GetString(WriteUtf8(utf8Json, writer, options));
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
    }

    /// <summary><c>"sha256:"</c> + lowercase hex of SHA-256 over the canonical bytes: Signet's content hash.</summary>
    public static string Sha256(JsonNode? node)
    {
        var writer = Rent();
        try
        {
            writer.Write(node);
            return SignetHash.Sha256(writer.Written);
        }
        finally
        {
            Return(writer);
        }
    }

    /// <summary>Borrows this thread's canonical writer (for building canonical objects with known keys); give it back with <see cref="Return"/>.</summary>
    internal static CanonicalWriter Rent()
    {
        var writer = t_writer ?? new CanonicalWriter();
        t_writer = null; // re-entrancy (a custom value serialized mid-write) gets its own writer
        return writer;
    }

    internal static void Return(CanonicalWriter writer)
    {
        writer.Reset();
        t_writer = writer;
    }

    /// <summary>Writes canonical UTF-8 into a growable buffer; keeps the JSON path only for error messages.</summary>
    internal sealed class CanonicalWriter
    {
        private const int MaxRetainedBuffer = 1 << 20;

        private byte[] _buffer = new byte[1024];
        private int _length;
        private readonly List<object> _path = [];
        private readonly StringBuilder _number = new(32);

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

        public int Length => _length;

        public void Reset()
        {
            _length = 0;
            _path.Clear();
            if (_buffer.Length > MaxRetainedBuffer)
            {
                _buffer = new byte[1024];
            }
        }

        public void Write(JsonNode? node)
        {
            switch (node)
            {
                case null:
                    Ascii("null");
                    return;
                case JsonObject obj:
                    {
                        var members = new KeyValuePair<string, JsonNode?>[obj.Count];
                        var i = 0;
                        foreach (var member in obj)
                        {
                            members[i++] = member;
                        }
                        if (members.Length > 1)
                        {
                            Array.Sort(members, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
                        }
                        Byte((byte)'{');
                        for (i = 0; i < members.Length; i++)
                        {
                            if (i > 0)
                            {
                                Byte((byte)',');
                            }
                            _path.Add(members[i].Key);
                            String(members[i].Key);
                            Byte((byte)':');
                            Write(members[i].Value);
                            _path.RemoveAt(_path.Count - 1);
                        }
                        Byte((byte)'}');
                        return;
                    }
                case JsonArray array:
                    {
                        Byte((byte)'[');
                        for (var i = 0; i < array.Count; i++)
                        {
                            if (i > 0)
                            {
                                Byte((byte)',');
                            }
                            _path.Add(i);
                            Write(array[i]);
                            _path.RemoveAt(_path.Count - 1);
                        }
                        Byte((byte)']');
                        return;
                    }
                case JsonValue value:
                    Value(value);
                    return;
                default:
                    throw new CanonicalizationException($"unsupported JSON node {node.GetType().Name} at {Where()}", Where());
            }
        }

        private void Value(JsonValue value)
        {
            if (value.TryGetValue<JsonElement>(out var element))
            {
                Element(element);
                return;
            }
            if (value.TryGetValue<string>(out var s))
            {
                String(s);
                return;
            }
            switch (value.GetValueKind())
            {
                case JsonValueKind.String:
                    String(value.GetValue<object>() switch
                    {
                        char c => c.ToString(),
                        var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? "",
                    });
                    return;
                case JsonValueKind.True:
                    Ascii("true");
                    return;
                case JsonValueKind.False:
                    Ascii("false");
                    return;
                case JsonValueKind.Null:
                    Ascii("null");
                    return;
                case JsonValueKind.Number:
                    _number.Clear();
                    switch (value.GetValue<object>())
                    {
                        case double d:
                            NumberLexeme.WriteDouble(d, _number);
                            break;
                        case float f:
                            NumberLexeme.WriteDouble(f, _number);
                            break;
                        case ulong ul:
                            NumberLexeme.WriteInteger(ul, _number, Where);
                            break;
                        case long l:
                            NumberLexeme.WriteInteger(l, _number, Where);
                            break;
                        case int or short or sbyte or byte or ushort or uint:
                            NumberLexeme.WriteInteger(Convert.ToInt64(value.GetValue<object>(), CultureInfo.InvariantCulture), _number, Where);
                            break;
                        case decimal m:
                            NumberLexeme.Write(Encoding.ASCII.GetBytes(m.ToString(CultureInfo.InvariantCulture)), _number, Where);
                            break;
                        default:
                            goto custom;
                    }
                    Ascii(_number);
                    return;
            }

        custom:
            // Anything else (a custom type): serialize it and canonicalize the result.
            var bytes = JsonSerializer.SerializeToUtf8Bytes(value, JsonNodeContext.Default.JsonNode);
            Write(StrictJson.Parse(bytes));
        }

        private void Element(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    Write(JsonObject.Create(element));
                    return;
                case JsonValueKind.Array:
                    Write(JsonArray.Create(element));
                    return;
                case JsonValueKind.String:
                    string s;
                    try
                    {
                        s = element.GetString()!;
                    }
                    catch (InvalidOperationException)
                    {
                        throw new CanonicalizationException($"the string at {Where()} is not valid Unicode (invalid UTF-8 or a lone surrogate)", Where());
                    }
                    String(s);
                    return;
                case JsonValueKind.Number:
                    {
                        // Small integers are the common case: write them straight through.
                        // TryGetInt64 accepts integer lexemes only ("1.0" and "1e2" are refused), so the reference's integer rule holds.
                        if (element.TryGetInt64(out var l) && l > -(1L << 53) && l < (1L << 53))
                        {
                            Span<byte> digits = stackalloc byte[24];
                            l.TryFormat(digits, out var n, default, CultureInfo.InvariantCulture);
                            Bytes(digits[..n]);
                            return;
                        }
                        _number.Clear();
                        NumberLexeme.Write(Encoding.UTF8.GetBytes(element.GetRawText()), _number, Where);
                        Ascii(_number);
                        return;
                    }
                case JsonValueKind.True:
                    Ascii("true");
                    return;
                case JsonValueKind.False:
                    Ascii("false");
                    return;
                default:
                    Ascii("null");
                    return;
            }
        }

        public void String(string s)
        {
            Byte((byte)'"');
            var span = s.AsSpan();
            var runStart = 0;
            for (var i = 0; i < span.Length; i++)
            {
                var c = span[i];
                if (c >= 0x20 && c != '"' && c != '\\' && !char.IsSurrogate(c))
                {
                    continue;
                }
                Utf8(span[runStart..i]);
                if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
                {
                    Utf8(span.Slice(i, 2));
                    i++;
                }
                else if (char.IsSurrogate(c))
                {
                    throw new CanonicalizationException($"lone surrogate U+{(int)c:X4} in the string at {Where()}", Where());
                }
                else
                {
                    Escape(c);
                }
                runStart = i + 1;
            }
            Utf8(span[runStart..]);
            Byte((byte)'"');
        }

        private void Escape(char c)
        {
            switch (c)
            {
                case '"':
                    Ascii("\\\"");
                    break;
                case '\\':
                    Ascii("\\\\");
                    break;
                case '\b':
                    Ascii("\\b");
                    break;
                case '\t':
                    Ascii("\\t");
                    break;
                case '\n':
                    Ascii("\\n");
                    break;
                case '\f':
                    Ascii("\\f");
                    break;
                case '\r':
                    Ascii("\\r");
                    break;
                default:
                    Ascii("\\u00");
                    Byte(Hex((c >> 4) & 0xF));
                    Byte(Hex(c & 0xF));
                    break;
            }
        }

        private static byte Hex(int v) => (byte)(v < 10 ? '0' + v : 'a' + v - 10);

        private void Utf8(ReadOnlySpan<char> chars)
        {
            if (chars.IsEmpty)
            {
                return;
            }
            Ensure(chars.Length * 3);
            _length += Encoding.UTF8.GetBytes(chars, _buffer.AsSpan(_length));
        }

        private void Ascii(string s)
        {
            Ensure(s.Length);
            foreach (var c in s)
            {
                _buffer[_length++] = (byte)c;
            }
        }

        private void Ascii(StringBuilder sb)
        {
            Ensure(sb.Length);
            foreach (var chunk in sb.GetChunks())
            {
                foreach (var c in chunk.Span)
                {
                    _buffer[_length++] = (byte)c;
                }
            }
        }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        public void Byte(byte b)
        {
            Ensure(1);
            _buffer[_length++] = b;
        }

        private void Ensure(int more)
        {
            if (_length + more > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
            }
        }

        private string Where() => JsonPath.Format(_path);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonNodeContext : System.Text.Json.Serialization.JsonSerializerContext;

