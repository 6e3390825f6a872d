using System.Globalization;
using System.Text;

namespace Signet.Core.Tests.Canonicalization;

/// <summary>Random JSON text with every shape of number, escapes, astral and BMP-private-use keys and random whitespace.</summary>
internal sealed class JsonGenerator(Random random)
{
    private static readonly string[] Numbers =
    [
        "0", "-0", "1", "-1", "42", "-42", "0.0", "-0.0", "1.0", "1.5", "-1.50", "100", "1e2", "1E2", "1e+2", "1e-2", "100E-2",
        "1e21", "1e20", "1e-6", "1e-7", "0.1", "0.2", "0.30000000000000004", "123456789012345", "-123456789012345",
        "999999999999999", "1234567890123456", "9007199254740991", "-9007199254740991", "9007199254740992",
        "9007199254740993", "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
        "123456789012345678901234567890", "9007199254740993.0", "1e16", "1.7976931348623157e308", "4.5e-324", "1e-400",
        "5e-324", "2.2250738585072014e-308", "0.000001", "1000000000000000000000.0", "3.141592653589793", "-1e-7",
    ];

    private static readonly string[] Pieces =
    [
        "a", "b", "z", "A", "_", " ", "0", "é", "ß", "日本", "\u00ff", "\u0100", "\u2028", "\u007f", "\uFB01", "\uFFFF", "\uE000",
        "\uD83D\uDE00", "\uD800\uDC00", "\uDBFF\uDFFF", "e\u0301", "\\n", "\\t", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r",
        "\\u0000", "\\u001f", "\\u0041", "\\u00e9", "\\uFB01", "\\ud83d\\ude00", "\\uD800\\uDC00", "\\u2028", "\\u007F",
    ];

    public bool RepeatKeys { get; init; }

    public bool SafeNumbersOnly { get; init; }

    /// <summary>A random object (any members, any depth up to about six).</summary>
    public string ObjectDocument()
    {
        var sb = new StringBuilder();
        Object(sb, 1);
        return sb.ToString();
    }

    /// <summary>Random whitespace, possibly none.</summary>
    public string Space() => random.Next(4) switch
    {
        0 => " ",
        1 => "\n\t ",
        _ => "",
    };

    public string Document()
    {
        var sb = new StringBuilder();
        Value(sb, 0);
        return Space() + sb + Space();
    }

    private void Value(StringBuilder sb, int depth)
    {
        var roll = random.Next(depth > 5 ? 6 : 10);
        switch (roll)
        {
            case 0:
            case 1:
                var number = Numbers[random.Next(Numbers.Length)];
                sb.Append(SafeNumbersOnly && number.Length > 15 && !number.Contains('.') && !number.Contains('e') ? "7" : number);
                break;
            case 2:
            case 3:
                String(sb);
                break;
            case 4:
                sb.Append(random.Next(3) switch { 0 => "true", 1 => "false", _ => "null" });
                break;
            case 5:
                sb.Append(random.Next(1_000_000).ToString(CultureInfo.InvariantCulture));
                break;
            case 6:
            case 7:
            case 8:
                Object(sb, depth);
                break;
            default:
                Array(sb, depth);
                break;
        }
    }

    private void Object(StringBuilder sb, int depth)
    {
        sb.Append('{').Append(Space());
        var count = random.Next(random.Next(4) == 0 ? 24 : 6);
        var keys = new List<string>();
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(',').Append(Space());
            }
            var start = sb.Length;
            if (RepeatKeys && keys.Count > 0 && random.Next(4) == 0)
            {
                sb.Append(keys[random.Next(keys.Count)]);
            }
            else
            {
                String(sb);
            }
            keys.Add(sb.ToString(start, sb.Length - start));
            sb.Append(Space()).Append(':').Append(Space());
            Value(sb, depth + 1);
            sb.Append(Space());
        }
        sb.Append('}');
    }

    private void Array(StringBuilder sb, int depth)
    {
        sb.Append('[').Append(Space());
        var count = random.Next(6);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(',').Append(Space());
            }
            Value(sb, depth + 1);
            sb.Append(Space());
        }
        sb.Append(']');
    }

    private void String(StringBuilder sb)
    {
        sb.Append('"');
        var length = random.Next(5);
        for (var i = 0; i < length; i++)
        {
            sb.Append(Pieces[random.Next(Pieces.Length)]);
        }
        sb.Append('"');
    }
}
