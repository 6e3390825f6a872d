namespace Signet.Cli.Proxy;

/// <summary>
/// Reads the two members the proxy decides on (<c>method</c> and <c>id</c>) from raw JSON-RPC bytes, tolerating what
/// a strict parser refuses and a server may still accept: invalid UTF-8 inside strings, escapes (<c>"tools\/call"</c>),
/// repeated keys, any depth, numbers of any size. It checks the structure only as far as it needs to find them.
/// </summary>
internal static class JsonRpcScanner
{
    private static ReadOnlySpan<byte> ToolsCall => "tools/call"u8;

    /// <summary>One message of a scanned document (the document itself, or one element of a batch).</summary>
    /// <param name="IsCall">Some <c>method</c> member of the object decodes to <c>tools/call</c>.</param>
    /// <param name="HasId">The object has an <c>id</c> member.</param>
    /// <param name="IdStart">Where the last <c>id</c> member's value starts in the scanned bytes.</param>
    /// <param name="IdLength">Its length in bytes.</param>
    internal readonly record struct Message(bool IsCall, bool HasId, int IdStart, int IdLength)
    {
        /// <summary>The raw bytes of the id's value, as the client sent them.</summary>
        public ReadOnlyMemory<byte> Id(ReadOnlyMemory<byte> document) => HasId ? document.Slice(IdStart, IdLength) : default;
    }

    /// <summary>The messages of a document, or null when it is not JSON at all.</summary>
    public static List<Message>? Scan(ReadOnlySpan<byte> json)
    {
        var c = new Cursor(json);
        if (!c.SkipWhitespace())
        {
            return null;
        }
        var messages = new List<Message>();
        if (c.Current == (byte)'[')
        {
            c.Pos++;
            if (!c.SkipWhitespace())
            {
                return null;
            }
            if (c.Current == (byte)']')
            {
                c.Pos++;
            }
            else
            {
                while (true)
                {
                    if (!c.SkipWhitespace() || !ScanElement(ref c, messages) || !c.SkipWhitespace())
                    {
                        return null;
                    }
                    var b = c.Current;
                    c.Pos++;
                    if (b == (byte)']')
                    {
                        break;
                    }
                    if (b != (byte)',')
                    {
                        return null;
                    }
                }
            }
        }
        else if (!ScanElement(ref c, messages))
        {
            return null;
        }
        return c.SkipWhitespace() ? null : messages;
    }

    /// <summary>
    /// The raw bytes of the <c>id</c> of a JSON object that may be cut off (the first bytes of an oversized line): found
    /// only when a complete <c>id</c> member comes before the cut. Empty when there is none.
    /// </summary>
    public static ReadOnlyMemory<byte> LeadingId(ReadOnlyMemory<byte> prefix)
    {
        var c = new Cursor(prefix.Span);
        if (!c.SkipWhitespace() || c.Current != (byte)'{')
        {
            return default;
        }
        c.Pos++;
        var key = new List<byte>();
        while (c.SkipWhitespace() && c.Current == (byte)'"')
        {
            key.Clear();
            if (!ReadString(ref c, key) || !c.SkipWhitespace() || c.Current != (byte)':')
            {
                return default;
            }
            c.Pos++;
            if (!c.SkipWhitespace())
            {
                return default;
            }
            var start = c.Pos;
            // The value must be followed by something: a number cut off at the end could be a longer one.
            if (!SkipValue(ref c) || !c.SkipWhitespace())
            {
                return default;
            }
            if (key.Count == 2 && key[0] == (byte)'i' && key[1] == (byte)'d')
            {
                return prefix.Slice(start, c.Pos - start).TrimEnd(" \t\r\n"u8);
            }
            if (c.Current != (byte)',')
            {
                return default;
            }
            c.Pos++;
        }
        return default;
    }

    private static bool ScanElement(ref Cursor c, List<Message> messages)
    {
        if (c.Current != (byte)'{')
        {
            messages.Add(default);
            return SkipValue(ref c);
        }
        c.Pos++;
        bool isCall = false, hasId = false;
        int idStart = 0, idLength = 0;
        var key = new List<byte>();
        var method = new List<byte>();
        if (!c.SkipWhitespace())
        {
            return false;
        }
        if (c.Current == (byte)'}')
        {
            c.Pos++;
            messages.Add(default);
            return true;
        }
        while (true)
        {
            key.Clear();
            if (!c.SkipWhitespace() || c.Current != (byte)'"' || !ReadString(ref c, key) || !c.SkipWhitespace() || c.Current != (byte)':')
            {
                return false;
            }
            c.Pos++;
            if (!c.SkipWhitespace())
            {
                return false;
            }
            var start = c.Pos;
            if (Is(key, "method"u8) && c.Current == (byte)'"')
            {
                method.Clear();
                if (!ReadString(ref c, method))
                {
                    return false;
                }
                isCall |= Is(method, ToolsCall);
            }
            else
            {
                if (!SkipValue(ref c))
                {
                    return false;
                }
                if (Is(key, "id"u8))
                {
                    hasId = true;
                    idStart = start;
                    idLength = c.Pos - start;
                }
            }
            if (!c.SkipWhitespace())
            {
                return false;
            }
            var b = c.Current;
            c.Pos++;
            if (b == (byte)'}')
            {
                messages.Add(new Message(isCall, hasId, idStart, idLength));
                return true;
            }
            if (b != (byte)',')
            {
                return false;
            }
        }
    }

    private static bool Is(List<byte> bytes, ReadOnlySpan<byte> expected)
    {
        if (bytes.Count != expected.Length)
        {
            return false;
        }
        for (var i = 0; i < expected.Length; i++)
        {
            if (bytes[i] != expected[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Skips one value. Containers are skipped by bracket depth, strings by their quotes.</summary>
    private static bool SkipValue(ref Cursor c)
    {
        if (c.AtEnd)
        {
            return false;
        }
        switch (c.Current)
        {
            case (byte)'"':
                return ReadString(ref c, null);
            case (byte)'{' or (byte)'[':
                {
                    var depth = 0;
                    while (!c.AtEnd)
                    {
                        var b = c.Current;
                        if (b == (byte)'"')
                        {
                            if (!ReadString(ref c, null))
                            {
                                return false;
                            }
                            continue;
                        }
                        c.Pos++;
                        if (b is (byte)'{' or (byte)'[')
                        {
                            depth++;
                        }
                        else if (b is (byte)'}' or (byte)']' && --depth == 0)
                        {
                            return true;
                        }
                    }
                    return false;
                }
            default:
                {
                    var start = c.Pos;
                    while (!c.AtEnd && (char.IsAsciiLetterOrDigit((char)c.Current) || c.Current is (byte)'+' or (byte)'-' or (byte)'.'))
                    {
                        c.Pos++;
                    }
                    var token = c.Span[start..c.Pos];
                    return token.SequenceEqual("true"u8) || token.SequenceEqual("false"u8) || token.SequenceEqual("null"u8)
                        || (token.Length > 0 && (token[0] == (byte)'-' || char.IsAsciiDigit((char)token[0])));
                }
        }
    }

    /// <summary>Reads a string at the cursor (on its opening quote), decoding escapes into <paramref name="decoded"/>; raw bytes are kept as they are.</summary>
    private static bool ReadString(ref Cursor c, List<byte>? decoded)
    {
        c.Pos++;
        while (!c.AtEnd)
        {
            var b = c.Current;
            c.Pos++;
            if (b == (byte)'"')
            {
                return true;
            }
            if (b < 0x20)
            {
                return false;
            }
            if (b != (byte)'\\')
            {
                decoded?.Add(b);
                continue;
            }
            if (c.AtEnd)
            {
                return false;
            }
            var e = c.Current;
            c.Pos++;
            switch (e)
            {
                case (byte)'"' or (byte)'\\' or (byte)'/':
                    decoded?.Add(e);
                    break;
                case (byte)'b': decoded?.Add(8); break;
                case (byte)'f': decoded?.Add(12); break;
                case (byte)'n': decoded?.Add(10); break;
                case (byte)'r': decoded?.Add(13); break;
                case (byte)'t': decoded?.Add(9); break;
                case (byte)'u':
                    {
                        if (!ReadHex(ref c, out var unit))
                        {
                            return false;
                        }
                        var scalar = (int)unit;
                        if (char.IsHighSurrogate((char)unit) && c.Pos + 1 < c.Span.Length && c.Span[c.Pos] == (byte)'\\' && c.Span[c.Pos + 1] == (byte)'u')
                        {
                            var save = c.Pos;
                            c.Pos += 2;
                            if (ReadHex(ref c, out var low) && char.IsLowSurrogate((char)low))
                            {
                                scalar = char.ConvertToUtf32((char)unit, (char)low);
                            }
                            else
                            {
                                c.Pos = save;
                            }
                        }
                        if (decoded is not null)
                        {
                            // A lone surrogate decodes as U+FFFD, as a lenient decoder reads it.
                            var rune = char.IsSurrogate((char)scalar) && scalar <= 0xFFFF ? System.Text.Rune.ReplacementChar : new System.Text.Rune(scalar);
                            Span<byte> utf8 = stackalloc byte[4];
                            var n = rune.EncodeToUtf8(utf8);
                            for (var i = 0; i < n; i++)
                            {
                                decoded.Add(utf8[i]);
                            }
                        }
                        break;
                    }
                default:
                    return false;
            }
        }
        return false;
    }

    private static bool ReadHex(ref Cursor c, out ushort value)
    {
        value = 0;
        if (c.Pos + 4 > c.Span.Length)
        {
            return false;
        }
        for (var i = 0; i < 4; i++)
        {
            var h = c.Span[c.Pos + i];
            int d = h switch
            {
                >= (byte)'0' and <= (byte)'9' => h - '0',
                >= (byte)'a' and <= (byte)'f' => h - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => h - 'A' + 10,
                _ => -1,
            };
            if (d < 0)
            {
                return false;
            }
            value = (ushort)((value << 4) | d);
        }
        c.Pos += 4;
        return true;
    }

    private ref struct Cursor(ReadOnlySpan<byte> span)
    {
        public readonly ReadOnlySpan<byte> Span = span;
        public int Pos;

        public readonly bool AtEnd => Pos >= Span.Length;

        public readonly byte Current => Span[Pos];

        /// <summary>Skips JSON whitespace; false at the end of the input.</summary>
        public bool SkipWhitespace()
        {
            while (Pos < Span.Length && Span[Pos] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                Pos++;
            }
            return Pos < Span.Length;
        }
    }
}
