using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace Signet.Canonicalization;

/// <summary>
/// The canonicalizer (RFC 8785 with the reference's number rules), the only one: straight from UTF-8 JSON with one
/// <see cref="Utf8JsonReader"/> pass, no tree, no strings, no per-member allocations. Objects are written in input
/// order; at the end of each object its members are reordered in place when they were not already sorted. A
/// <see cref="JsonNode"/> is written out as JSON text first (<see cref="Write(JsonNode)"/>) and canonicalized from it.
/// </summary>
/// <remarks>
/// The <c>Try…</c> methods answer false at the first thing they do not accept (malformed text, a repeated key, a
/// lone surrogate, an unsafe integer, too deep); the caller then asks the strict parser
/// (<see cref="StrictJson"/>) or <see cref="CanonicalProblem"/> for the error, with its place. The known-key
/// builders (<see cref="String(string)"/>, <see cref="Bytes"/>) let the signable be written straight in canonical
/// order. One instance per thread: it keeps its buffers between calls.
/// </remarks>
internal sealed class Utf8CanonicalWriter
{
    /// <summary>The deepest <see cref="JsonNode"/> tree <see cref="Write(JsonNode)"/> canonicalizes.</summary>
    public const int MaxNodeDepth = 4096;

    private const int MaxRetainedBuffer = 1 << 20;

    // Non-ASCII text stays as it is (the reader would only have to decode its escapes again); the structure is ours.
    private static readonly JsonWriterOptions NodeTextOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
        MaxDepth = MaxNodeDepth + 1,
    };

    // A JsonObject cannot hold a key twice; a custom value's own serialization can, and is refused as the parser refuses it.
    private static readonly StrictJsonOptions NodeOptions = new() { MaxDepth = MaxNodeDepth };
    private static readonly SearchValues<byte> NeedsEscape = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\']);

    [ThreadStatic]
    private static Utf8CanonicalWriter? t_cached;

    private byte[] _out = new byte[2048];
    private int _length;
    private byte[] _keys = new byte[512];
    private int _keysLength;
    private Member[] _members = new Member[64];
    private int _memberCount;
    private byte[] _scratch = new byte[2048];
    private readonly StringBuilder _number = new(32);
    private int _maxDepth = StrictJsonOptions.Default.MaxDepth;
    private DuplicateKeyPolicy _duplicates;
    private ArrayBufferWriter<byte>? _nodeText;
    private Utf8JsonWriter? _nodeWriter;

    /// <summary>The bytes written since the last <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Written => _out.AsSpan(0, _length);

    /// <summary>How many bytes have been written.</summary>
    public int Length => _length;

    /// <summary>The writer of this thread (callers must not nest uses).</summary>
    public static Utf8CanonicalWriter Rent()
    {
        var writer = t_cached ?? new Utf8CanonicalWriter();
        t_cached = null;
        writer.Reset();
        return writer;
    }

    /// <summary>Gives the writer back to this thread.</summary>
    public static void Return(Utf8CanonicalWriter writer)
    {
        if (writer._out.Length > MaxRetainedBuffer || writer._scratch.Length > MaxRetainedBuffer || writer._nodeText?.Capacity > MaxRetainedBuffer)
        {
            return; // let a one-off huge document's buffers go
        }
        t_cached = writer;
    }

    /// <summary>Forgets what was written.</summary>
    public void Reset()
    {
        _length = 0;
        _keysLength = 0;
        _memberCount = 0;
    }

    /// <summary>Drops everything written after <paramref name="length"/>.</summary>
    public void Truncate(int length) => _length = length;

    /// <summary>Canonicalizes one whole document; false if anything is not accepted.</summary>
    public bool TryWriteDocument(ReadOnlySpan<byte> utf8Json, StrictJsonOptions options)
    {
        if (options.MaxDepth < 1 || options.MaxDepth > MaxNodeDepth)
        {
            return false; // unusual limits: the strict parser applies its reader's own rules
        }
        if (utf8Json.StartsWith("\uFEFF"u8))
        {
            return false;
        }
        Configure(options);
        var reader = NewReader(utf8Json, options.MaxDepth);
        try
        {
            return reader.Read() && TryWriteValue(ref reader, depth: 0, canonicalNumbers: true) && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A reader with the strict settings; the writer counts depth itself.</summary>
    public static Utf8JsonReader NewReader(ReadOnlySpan<byte> utf8Json, int maxDepth) =>
        new(utf8Json, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            MaxDepth = maxDepth + 1,
        });

    /// <summary>Sets the limits for the next values.</summary>
    public void Configure(StrictJsonOptions options)
    {
        _maxDepth = options.MaxDepth;
        _duplicates = options.DuplicateKeys;
    }

    /// <summary>
    /// Writes the value at the reader's current token and leaves the reader on its last token. With
    /// <paramref name="canonicalNumbers"/> off, numbers are only checked to be finite (what the strict parser
    /// checks) and copied as they are: the value is being validated, not hashed.
    /// </summary>
    public bool TryWriteValue(ref Utf8JsonReader reader, int depth, bool canonicalNumbers)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                return depth + 1 <= _maxDepth && TryWriteObject(ref reader, depth, canonicalNumbers);
            case JsonTokenType.StartArray:
                {
                    if (depth + 1 > _maxDepth)
                    {
                        return false;
                    }
                    Byte((byte)'[');
                    var first = true;
                    while (true)
                    {
                        if (!reader.Read())
                        {
                            return false;
                        }
                        if (reader.TokenType == JsonTokenType.EndArray)
                        {
                            Byte((byte)']');
                            return true;
                        }
                        if (!first)
                        {
                            Byte((byte)',');
                        }
                        first = false;
                        if (!TryWriteValue(ref reader, depth + 1, canonicalNumbers))
                        {
                            return false;
                        }
                    }
                }
            case JsonTokenType.String:
                return TryWriteString(ref reader, toKeys: false);
            case JsonTokenType.Number:
                return TryWriteNumber(reader.ValueSpan, canonicalNumbers);
            case JsonTokenType.True:
                Bytes("true"u8);
                return true;
            case JsonTokenType.False:
                Bytes("false"u8);
                return true;
            case JsonTokenType.Null:
                Bytes("null"u8);
                return true;
            default:
                return false;
        }
    }

    private bool TryWriteObject(ref Utf8JsonReader reader, int depth, bool canonicalNumbers)
    {
        Byte((byte)'{');
        var contentStart = _length;
        var firstMember = _memberCount;
        var keysMark = _keysLength;
        var index = 0;
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
            if (index > 0)
            {
                Byte((byte)',');
            }
            var memberStart = _length;
            var keyStart = _keysLength;
            if (!TryWriteString(ref reader, toKeys: true))
            {
                return false;
            }
            Byte((byte)':');
            if (!reader.Read() || !TryWriteValue(ref reader, depth + 1, canonicalNumbers))
            {
                return false;
            }
            AddMember(new Member(keyStart, _keysLength - keyStart, memberStart, _length - memberStart, index++));
        }
        var ok = SortMembers(firstMember, contentStart);
        _memberCount = firstMember;
        _keysLength = keysMark;
        Byte((byte)'}');
        return ok;
    }

    /// <summary>Puts the members written since <paramref name="firstMember"/> in UTF-16 key order; false on a refused repeat.</summary>
    private bool SortMembers(int firstMember, int contentStart)
    {
        var count = _memberCount - firstMember;
        if (count < 2)
        {
            return true;
        }
        var members = _members.AsSpan(firstMember, count);
        var comparer = new MemberComparer(_keys);
        var sorted = true;
        for (var i = 1; i < members.Length; i++)
        {
            if (comparer.CompareKeys(members[i - 1], members[i]) >= 0)
            {
                sorted = false; // out of order, or a repeated key
                break;
            }
        }
        if (sorted)
        {
            return true;
        }

        if (members.Length <= 16)
        {
            InsertionSort(members, comparer);
        }
        else
        {
            members.Sort(comparer);
        }

        var contentLength = _length - contentStart;
        EnsureScratch(contentLength);
        var written = 0;
        var emitted = 0;
        for (var i = 0; i < members.Length; i++)
        {
            if (i + 1 < members.Length && KeyEquals(members[i], members[i + 1]))
            {
                if (_duplicates == DuplicateKeyPolicy.Reject)
                {
                    return false;
                }
                continue; // last wins: the later member (higher index) sorts after the earlier one
            }
            if (emitted++ > 0)
            {
                _scratch[written++] = (byte)',';
            }
            _out.AsSpan(members[i].Start, members[i].Length).CopyTo(_scratch.AsSpan(written));
            written += members[i].Length;
        }
        _scratch.AsSpan(0, written).CopyTo(_out.AsSpan(contentStart));
        _length = contentStart + written;
        return true;
    }

    private static void InsertionSort(Span<Member> members, MemberComparer comparer)
    {
        for (var i = 1; i < members.Length; i++)
        {
            var item = members[i];
            var j = i - 1;
            while (j >= 0 && comparer.Compare(members[j], item) > 0)
            {
                members[j + 1] = members[j];
                j--;
            }
            members[j + 1] = item;
        }
    }

    private bool KeyEquals(in Member a, in Member b) =>
        _keys.AsSpan(a.KeyStart, a.KeyLength).SequenceEqual(_keys.AsSpan(b.KeyStart, b.KeyLength));

    /// <summary>True if two of the members written since <paramref name="firstMember"/> share a key (order is left alone).</summary>
    public bool HasRepeatedKey(int firstMember)
    {
        var count = _memberCount - firstMember;
        if (count <= 16)
        {
            for (var i = firstMember; i < _memberCount; i++)
            {
                for (var j = i + 1; j < _memberCount; j++)
                {
                    if (KeyEquals(_members[i], _members[j]))
                    {
                        return true;
                    }
                }
            }
            return false;
        }
        var copy = _members.AsSpan(firstMember, count).ToArray();
        Array.Sort(copy, new MemberComparer(_keys));
        for (var i = 1; i < copy.Length; i++)
        {
            if (KeyEquals(copy[i - 1], copy[i]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The members recorded so far (a mark for <see cref="HasRepeatedKey"/>).</summary>
    public int MemberCount => _memberCount;

    /// <summary>Reads the property name at the reader into the key list (not the output); false if it is not a valid string.</summary>
    public bool TryAddKey(ref Utf8JsonReader reader)
    {
        var keyStart = _keysLength;
        var mark = _length;
        if (!TryWriteString(ref reader, toKeys: true))
        {
            return false;
        }
        _length = mark;
        AddMember(new Member(keyStart, _keysLength - keyStart, 0, 0, _memberCount));
        return true;
    }

    /// <summary>Writes a string (a value or a key) canonically; a key's decoded UTF-8 also goes to the key list.</summary>
    private bool TryWriteString(ref Utf8JsonReader reader, bool toKeys)
    {
        var raw = reader.ValueSpan;
        if (!reader.ValueIsEscaped)
        {
            // Unescaped text holds no quote, backslash or control character (the reader refuses them), so it is canonical once it is valid UTF-8.
            if (!Utf8.IsValid(raw))
            {
                return false;
            }
            if (toKeys)
            {
                AppendKey(raw);
            }
            Ensure(raw.Length + 2);
            _out[_length++] = (byte)'"';
            raw.CopyTo(_out.AsSpan(_length));
            _length += raw.Length;
            _out[_length++] = (byte)'"';
            return true;
        }

        // Decoded text is never longer than its escaped form.
        byte[]? rented = null;
        var buffer = raw.Length <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(raw.Length));
        try
        {
            int n;
            try
            {
                n = reader.CopyString(buffer);
            }
            catch (InvalidOperationException)
            {
                return false; // a lone surrogate or invalid UTF-8
            }
            var text = buffer[..n];
            if (!Utf8.IsValid(text))
            {
                return false;
            }
            if (toKeys)
            {
                AppendKey(text);
            }
            WriteEscaped(text);
            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private void WriteEscaped(ReadOnlySpan<byte> text)
    {
        Byte((byte)'"');
        while (true)
        {
            var i = text.IndexOfAny(NeedsEscape);
            if (i < 0)
            {
                Bytes(text);
                break;
            }
            Bytes(text[..i]);
            var c = text[i];
            switch (c)
            {
                case (byte)'"':
                    Bytes("\\\""u8);
                    break;
                case (byte)'\\':
                    Bytes("\\\\"u8);
                    break;
                case (byte)'\b':
                    Bytes("\\b"u8);
                    break;
                case (byte)'\t':
                    Bytes("\\t"u8);
                    break;
                case (byte)'\n':
                    Bytes("\\n"u8);
                    break;
                case (byte)'\f':
                    Bytes("\\f"u8);
                    break;
                case (byte)'\r':
                    Bytes("\\r"u8);
                    break;
                default:
                    Bytes("\\u00"u8);
                    Byte(Hex(c >> 4));
                    Byte(Hex(c & 0xF));
                    break;
            }
            text = text[(i + 1)..];
        }
        Byte((byte)'"');
    }

    private static byte Hex(int v) => (byte)(v < 10 ? '0' + v : 'a' + v - 10);

    private bool TryWriteNumber(ReadOnlySpan<byte> lexeme, bool canonical)
    {
        if (!canonical)
        {
            if (!NumberLexeme.IsFinite(lexeme))
            {
                return false;
            }
            Bytes(lexeme);
            return true;
        }
        var digits = lexeme[0] == (byte)'-' ? lexeme.Length - 1 : lexeme.Length;
        if (digits <= 15 && NumberLexeme.IsIntegerLexeme(lexeme))
        {
            // Below 2^53 and written without leading zeros (JSON has none): the lexeme is its canonical form, except -0.
            if (lexeme.SequenceEqual("-0"u8))
            {
                Byte((byte)'0');
            }
            else
            {
                Bytes(lexeme);
            }
            return true;
        }
        _number.Clear();
        try
        {
            NumberLexeme.Write(lexeme, _number, static () => "$");
        }
        catch (CanonicalizationException)
        {
            return false;
        }
        catch (OverflowException)
        {
            return false;
        }
        Ensure(_number.Length);
        foreach (var chunk in _number.GetChunks())
        {
            foreach (var ch in chunk.Span)
            {
                _out[_length++] = (byte)ch;
            }
        }
        return true;
    }

    /// <summary>
    /// Appends the canonical form of a tree: the tree is written out as JSON text (numbers as their lexemes or
    /// shortest round-trip doubles, a <see cref="float"/> widened to the double it is), and that text is canonicalized
    /// as any other. Throws <see cref="CanonicalizationException"/> (or, for a custom value that serializes to text
    /// the strict parser refuses, <see cref="JsonParseException"/>) with the path of the first value in canonical
    /// order that has no canonical form; nothing is appended then.
    /// </summary>
    public void Write(JsonNode? node)
    {
        var mark = _length;
        var members = _memberCount;
        var keys = _keysLength;
        if (TryWriteText(node, out var text))
        {
            var depth = _maxDepth;
            var duplicates = _duplicates;
            Configure(NodeOptions);
            var reader = NewReader(text, MaxNodeDepth);
            try
            {
                if (reader.Read() && TryWriteValue(ref reader, depth: 0, canonicalNumbers: true) && !reader.Read())
                {
                    return;
                }
            }
            catch (JsonException)
            {
                // Refused below, with the reason.
            }
            finally
            {
                _maxDepth = depth;
                _duplicates = duplicates;
            }
        }
        _length = mark;
        _memberCount = members;
        _keysLength = keys;
        CanonicalProblem.Throw(node);
    }

    /// <summary>The tree as JSON text in <see cref="_nodeText"/>; false if it holds what the text could not say as it is (a lone surrogate, NaN).</summary>
    private bool TryWriteText(JsonNode? node, out ReadOnlySpan<byte> text)
    {
        var buffer = _nodeText ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = _nodeWriter ??= new Utf8JsonWriter(buffer, NodeTextOptions);
        writer.Reset(buffer);
        text = default;
        try
        {
            if (!WriteText(writer, node, 0))
            {
                return false;
            }
            writer.Flush();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException or NotSupportedException or FormatException or OverflowException)
        {
            return false; // NaN, an element holding invalid text, a custom value that does not serialize: named by CanonicalProblem
        }
        text = buffer.WrittenSpan;
        return true;
    }

    private static bool WriteText(Utf8JsonWriter writer, JsonNode? node, int depth)
    {
        if (depth > MaxNodeDepth)
        {
            return false;
        }
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                return true;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var member in obj)
                {
                    if (IndexOfLoneSurrogate(member.Key) >= 0)
                    {
                        return false;
                    }
                    writer.WritePropertyName(member.Key);
                    if (!WriteText(writer, member.Value, depth + 1))
                    {
                        return false;
                    }
                }
                writer.WriteEndObject();
                return true;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    if (!WriteText(writer, item, depth + 1))
                    {
                        return false;
                    }
                }
                writer.WriteEndArray();
                return true;
            case JsonValue value:
                return WriteValueText(writer, value);
            default:
                return false;
        }
    }

    private static bool WriteValueText(Utf8JsonWriter writer, JsonValue value)
    {
        if (value.TryGetValue<JsonElement>(out var element))
        {
            element.WriteTo(writer); // a parsed value: its number lexemes are copied as they are
            return true;
        }
        string? s;
        if (!value.TryGetValue(out s))
        {
            switch (value.GetValueKind())
            {
                case JsonValueKind.String:
                    s = ClrString(value);
                    break;
                case JsonValueKind.Number when value.TryGetValue<float>(out var f):
                    // A float is the double it widens to (what the value is), not its shortest single-precision text.
                    writer.WriteNumberValue((double)f);
                    return true;
                default:
                    value.WriteTo(writer); // numbers as their lexemes, literals, and custom values as they serialize
                    return true;
            }
        }
        if (IndexOfLoneSurrogate(s) >= 0)
        {
            return false; // the text writer would put U+FFFD in its place
        }
        writer.WriteStringValue(s);
        return true;
    }

    /// <summary>The text of a CLR value that serializes as a JSON string but is not a <see cref="string"/> (a char, a date).</summary>
    internal static string ClrString(JsonValue value) => value.GetValue<object>() switch
    {
        char c => c.ToString(),
        var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>The index of the first surrogate that is not half of a pair, or -1.</summary>
    internal static int IndexOfLoneSurrogate(ReadOnlySpan<char> s)
    {
        var i = s.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0)
        {
            return -1;
        }
        for (; i < s.Length; i++)
        {
            if (!char.IsSurrogate(s[i]))
            {
                continue;
            }
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
                continue;
            }
            return i;
        }
        return -1;
    }

    /// <summary>Writes a CLR string as a canonical JSON string; a lone surrogate is refused.</summary>
    public void String(string s)
    {
        var lone = IndexOfLoneSurrogate(s);
        if (lone >= 0)
        {
            throw new CanonicalizationException($"lone surrogate U+{(int)s[lone]:X4} in the string at $", "$");
        }
        var max = Encoding.UTF8.GetMaxByteCount(s.Length);
        byte[]? rented = null;
        var buffer = max <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            WriteEscaped(buffer[..Encoding.UTF8.GetBytes(s, buffer)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private void AddMember(Member member)
    {
        if (_memberCount == _members.Length)
        {
            Array.Resize(ref _members, _members.Length * 2);
        }
        _members[_memberCount++] = member;
    }

    private void AppendKey(ReadOnlySpan<byte> key)
    {
        if (_keysLength + key.Length > _keys.Length)
        {
            Array.Resize(ref _keys, Math.Max(_keys.Length * 2, _keysLength + key.Length));
        }
        key.CopyTo(_keys.AsSpan(_keysLength));
        _keysLength += key.Length;
    }

    /// <summary>Copies bytes to the output.</summary>
    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_out.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>Writes one byte to the output.</summary>
    public void Byte(byte b)
    {
        Ensure(1);
        _out[_length++] = b;
    }

    /// <summary>The output bytes at a place written earlier, for filling in.</summary>
    public Span<byte> Slice(int start, int length) => _out.AsSpan(start, length);

    private void Ensure(int more)
    {
        if (_length + more > _out.Length)
        {
            Array.Resize(ref _out, Math.Max(_out.Length * 2, _length + more));
        }
    }

    private void EnsureScratch(int length)
    {
        if (_scratch.Length < length)
        {
            _scratch = new byte[Math.Max(_scratch.Length * 2, length)];
        }
    }

    /// <summary>Compares UTF-8 byte strings in the order of their UTF-16 code units (RFC 8785 §3.2.3).</summary>
    internal static int CompareUtf16(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var i = a.CommonPrefixLength(b);
        if (i == a.Length || i == b.Length)
        {
            return a.Length - b.Length;
        }
        if (a[i] < 0x80 || b[i] < 0x80)
        {
            return a[i] - b[i]; // ASCII sorts below every multi-byte character in both orders
        }
        // Both are inside (or start) a multi-byte character that begins at the same place, since the prefix is shared.
        var start = i;
        while (start > 0 && (a[start] & 0xC0) == 0x80)
        {
            start--;
        }
        Rune.DecodeFromUtf8(a[start..], out var ra, out _);
        Rune.DecodeFromUtf8(b[start..], out var rb, out _);
        return FirstUtf16Unit(ra.Value) != FirstUtf16Unit(rb.Value)
            ? FirstUtf16Unit(ra.Value) - FirstUtf16Unit(rb.Value)
            : ra.Value - rb.Value; // both astral with the same high surrogate: low surrogates follow code point order
    }

    private static int FirstUtf16Unit(int codePoint) =>
        codePoint < 0x10000 ? codePoint : 0xD800 + ((codePoint - 0x10000) >> 10);

    /// <summary>One object member: its decoded key in the key list and its <c>"key":value</c> bytes in the output.</summary>
    private readonly record struct Member(int KeyStart, int KeyLength, int Start, int Length, int Index);

    private readonly struct MemberComparer(byte[] keys) : IComparer<Member>
    {
        public int Compare(Member x, Member y)
        {
            var c = CompareKeys(x, y);
            return c != 0 ? c : x.Index - y.Index;
        }

        public int CompareKeys(in Member x, in Member y) =>
            CompareUtf16(keys.AsSpan(x.KeyStart, x.KeyLength), keys.AsSpan(y.KeyStart, y.KeyLength));
    }
}
