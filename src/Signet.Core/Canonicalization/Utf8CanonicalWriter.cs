using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Signet.Canonicalization;

/// <summary>
/// RFC 8785 straight from UTF-8 JSON with one <see cref="Utf8JsonReader"/> pass: no tree, no strings, no per-member
/// allocations. Objects are written in input order; at the end of each object its members are reordered in place
/// when they were not already sorted.
/// </summary>
/// <remarks>
/// Every method answers false at the first thing it does not accept (malformed text, a repeated key, a lone
/// surrogate, an unsafe integer, too deep). The caller then runs the tree-based path, which produces exactly the
/// strict parser's and canonicalizer's error (or, should the two disagree, the tree-based result). One instance per
/// thread: it keeps its buffers between calls.
/// </remarks>
internal sealed class Utf8CanonicalWriter
{
    private const int MaxRetainedBuffer = 1 << 20;
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
        if (writer._out.Length > MaxRetainedBuffer || writer._scratch.Length > MaxRetainedBuffer)
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
        if (options.MaxDepth < 1 || options.MaxDepth > 4096)
        {
            return false; // unusual limits: the tree path applies its reader's own rules
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
