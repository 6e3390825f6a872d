using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Signet.Transparency;

/// <summary>The rules shared by the note formats: characters, key names, base64, decimals, key ids.</summary>
internal static class NoteText
{
    /// <summary>The largest note (text and signatures) accepted, in UTF-8 bytes.</summary>
    public const int MaxNoteBytes = 1 << 20;

    /// <summary>The most signature lines accepted in one note; the spec asks for at least 16.</summary>
    public const int MaxSignatures = 100;

    /// <summary>The signature line prefix: em dash and space.</summary>
    public const string SignaturePrefix = "\u2014 ";

    public static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Finds the first character the note formats forbid: a lone surrogate (not UTF-8) or a control character other than newline.</summary>
    public static string? FindForbiddenCharacter(string text, out int line)
    {
        line = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
            }
            else if (c < 0x20)
            {
                return $"control character U+{(int)c:X4} (only newline is allowed)";
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return $"unpaired surrogate U+{(int)c:X4} (the text must be valid UTF-8)";
            }
        }
        return null;
    }

    /// <summary>Checks the characters and size of a whole note-format text; throws naming the line.</summary>
    public static void CheckCharacters(string what, string text, int lineOffset = 0)
    {
        if (text.Length > MaxNoteBytes || Encoding.UTF8.GetByteCount(text) > MaxNoteBytes)
        {
            throw new NoteFormatException(what, 0, $"longer than {MaxNoteBytes} bytes");
        }
        var problem = FindForbiddenCharacter(text, out var line);
        if (problem is not null)
        {
            throw new NoteFormatException(what, lineOffset + line, problem);
        }
    }

    /// <summary>Why a key name is not valid (empty, a Unicode space, a plus, a forbidden character), or null.</summary>
    public static string? KeyNameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "the key name is empty";
        }
        var problem = FindForbiddenCharacter(name, out _);
        if (problem is not null)
        {
            return $"the key name has a {problem}";
        }
        foreach (var rune in name.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                return $"the key name \"{name}\" contains a space (U+{rune.Value:X4})";
            }
            if (rune.Value == '+')
            {
                return $"the key name \"{name}\" contains '+'";
            }
        }
        return null;
    }

    /// <summary>The key id: the first four bytes, big-endian, of SHA-256(name || 0x0A || type || public key).</summary>
    public static uint KeyId(string name, byte type, ReadOnlySpan<byte> publicKey)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[nameBytes.Length + 2 + publicKey.Length];
        nameBytes.CopyTo(input, 0);
        input[nameBytes.Length] = (byte)'\n';
        input[nameBytes.Length + 1] = type;
        publicKey.CopyTo(input.AsSpan(nameBytes.Length + 2));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash);
    }

    /// <summary>Decodes standard padded base64, refusing every other spelling of the same bytes.</summary>
    public static bool TryDecodeBase64(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 4 != 0)
        {
            return false;
        }
        var buffer = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            return false;
        }
        var decoded = buffer[..written];
        if (!string.Equals(Convert.ToBase64String(decoded), text, StringComparison.Ordinal))
        {
            return false;
        }
        bytes = decoded;
        return true;
    }

    /// <summary>Parses an ASCII decimal without sign or leading zeros (except <c>0</c> itself) into a non-negative long.</summary>
    public static bool TryParseDecimal(string text, out long value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > 19 || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A value quoted for an error message, shortened.</summary>
    public static string Quote(string value) => "\"" + (value.Length <= 60 ? value : value[..57] + "...") + "\"";

    /// <summary>Splits text ending in a newline into its lines (without the newlines).</summary>
    public static string[] Lines(string text) => text[..^1].Split('\n');
}
