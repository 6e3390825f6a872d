using System.Globalization;
using System.Text;

namespace Signet.Canonicalization;

/// <summary>
/// Turns a JSON number lexeme or a CLR number into its canonical text, with the reference Signet's rules for
/// integers (FORMAT.md §2): an integer lexeme is never rounded through a double; one at or above 2^53 in magnitude
/// is an error, except -9223372036854775808, which the reference writes verbatim; integers beyond the 64-bit range
/// become doubles. Everything else is an IEEE double written as ECMAScript's <c>Number.prototype.toString</c>.
/// </summary>
internal static class NumberLexeme
{
    private const ulong MaxSafe = 1UL << 53; // the first unsafe integer

    public static bool IsFinite(ReadOnlySpan<byte> lexeme)
    {
        if (IsIntegerLexeme(lexeme) && lexeme.Length < 20)
        {
            return true; // fits i64/u64
        }
        return double.IsFinite(ParseDouble(lexeme));
    }

    public static bool IsIntegerLexeme(ReadOnlySpan<byte> lexeme) =>
        lexeme.IndexOfAny((byte)'.', (byte)'e', (byte)'E') < 0;

    /// <summary>Writes the canonical form of a JSON number lexeme; throws <see cref="CanonicalizationException"/>.</summary>
    public static void Write(ReadOnlySpan<byte> lexeme, StringBuilder output, Func<string> path)
    {
        if (IsIntegerLexeme(lexeme))
        {
            if (lexeme[0] == (byte)'-')
            {
                if (long.TryParse(lexeme, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var negative))
                {
                    WriteInteger(negative, output, path);
                    return;
                }
            }
            else if (ulong.TryParse(lexeme, NumberStyles.None, CultureInfo.InvariantCulture, out var positive))
            {
                WriteInteger(positive, output, path);
                return;
            }
        }

        var value = ParseDouble(lexeme);
        if (!double.IsFinite(value))
        {
            throw new CanonicalizationException($"number {Encoding.UTF8.GetString(lexeme)} at {path()} overflows a 64-bit float", path());
        }
        WriteDouble(value, output);
    }

    public static void WriteInteger(long value, StringBuilder output, Func<string> path)
    {
        if (value == long.MinValue)
        {
            // The reference checks |v| with a wrapping abs(); i64::MIN passes and is written as it is.
            output.Append("-9223372036854775808");
            return;
        }
        if ((ulong)Math.Abs(value) >= MaxSafe)
        {
            throw Unsafe(value.ToString(CultureInfo.InvariantCulture), path());
        }
        output.Append(value.ToString(CultureInfo.InvariantCulture));
    }

    public static void WriteInteger(ulong value, StringBuilder output, Func<string> path)
    {
        if (value >= MaxSafe)
        {
            throw Unsafe(value.ToString(CultureInfo.InvariantCulture), path());
        }
        output.Append(value.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Writes a double as ECMAScript <c>Number.prototype.toString</c> does (RFC 8785 §3.2.2.3).</summary>
    public static void WriteDouble(double value, StringBuilder output)
    {
        if (!double.IsFinite(value))
        {
            throw new CanonicalizationException("NaN and Infinity have no JSON form", "$");
        }
        if (value == 0)
        {
            output.Append('0'); // -0 too
            return;
        }
        if (value < 0)
        {
            output.Append('-');
            value = -value;
        }

        // "R" gives the shortest digits that round-trip; we only re-place the decimal point.
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var exponent = 0;
        var e = text.IndexOfAny(['E', 'e']);
        var mantissa = text;
        if (e >= 0)
        {
            exponent = int.Parse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = text[..e];
        }
        var dot = mantissa.IndexOf('.');
        var intLength = dot < 0 ? mantissa.Length : dot;
        var digits = dot < 0 ? mantissa : string.Concat(mantissa.AsSpan(0, dot), mantissa.AsSpan(dot + 1));
        var leading = 0;
        while (leading < digits.Length - 1 && digits[leading] == '0')
        {
            leading++;
        }
        digits = digits[leading..].TrimEnd('0');
        // value = 0.d1d2…dk × 10^n
        var n = intLength + exponent - leading;
        var k = digits.Length;

        if (k <= n && n <= 21)
        {
            output.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            output.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            output.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            var exp = n - 1;
            output.Append(digits[0]);
            if (k > 1)
            {
                output.Append('.').Append(digits, 1, k - 1);
            }
            output.Append('e').Append(exp >= 0 ? '+' : '-').Append(Math.Abs(exp).ToString(CultureInfo.InvariantCulture));
        }
    }

    private static double ParseDouble(ReadOnlySpan<byte> lexeme) =>
        double.Parse(lexeme, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static CanonicalizationException Unsafe(string digits, string path) =>
        new($"integer {digits} at {path} is not below 2^53 (9007199254740992), so it has no exact canonical form; " +
            "the reference Signet refuses it too. Send it as a string, or as a float such as 1.0e16", path);
}
