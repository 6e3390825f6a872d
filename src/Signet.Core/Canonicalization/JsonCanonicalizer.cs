using System.Buffers;
using System.Security.Cryptography;
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
public static class JsonCanonicalizer
{
    /// <summary>The canonical UTF-8 bytes of a value (<c>null</c> is JSON null).</summary>
    public static byte[] Canonicalize(JsonNode? node) => Encoding.UTF8.GetBytes(CanonicalizeToString(node));

    /// <summary>The canonical text of a value.</summary>
    public static string CanonicalizeToString(JsonNode? node)
    {
        var sb = new StringBuilder(256);
        var path = new List<object>();
        Write(node, sb, path);
        return sb.ToString();
    }

    /// <summary>Parses JSON text (strictly, duplicate keys rejected) and returns its canonical text.</summary>
    public static string CanonicalizeJson(ReadOnlySpan<byte> utf8Json, StrictJsonOptions? options = null) =>
        CanonicalizeToString(StrictJson.Parse(utf8Json, options));

    /// <summary><c>"sha256:"</c> + lowercase hex of SHA-256 over the canonical bytes: Signet's content hash.</summary>
    public static string Sha256(JsonNode? node) => SignetHash.Sha256(Canonicalize(node));

    private static void Write(JsonNode? node, StringBuilder sb, List<object> path)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                return;
            case JsonObject obj:
                {
                    var members = new KeyValuePair<string, JsonNode?>[obj.Count];
                    var i = 0;
                    foreach (var member in obj)
                    {
                        members[i++] = member;
                    }
                    Array.Sort(members, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
                    sb.Append('{');
                    for (i = 0; i < members.Length; i++)
                    {
                        if (i > 0)
                        {
                            sb.Append(',');
                        }
                        path.Add(members[i].Key);
                        WriteString(members[i].Key, sb, path);
                        sb.Append(':');
                        Write(members[i].Value, sb, path);
                        path.RemoveAt(path.Count - 1);
                    }
                    sb.Append('}');
                    return;
                }
            case JsonArray array:
                {
                    sb.Append('[');
                    for (var i = 0; i < array.Count; i++)
                    {
                        if (i > 0)
                        {
                            sb.Append(',');
                        }
                        path.Add(i);
                        Write(array[i], sb, path);
                        path.RemoveAt(path.Count - 1);
                    }
                    sb.Append(']');
                    return;
                }
            case JsonValue value:
                WriteValue(value, sb, path);
                return;
            default:
                throw new CanonicalizationException($"unsupported JSON node {node.GetType().Name} at {JsonPath.Format(path)}", JsonPath.Format(path));
        }
    }

    private static void WriteValue(JsonValue value, StringBuilder sb, List<object> path)
    {
        if (value.TryGetValue<JsonElement>(out var element))
        {
            WriteElement(element, sb, path);
            return;
        }

        Func<string> where = () => JsonPath.Format(path);
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(value.GetValue<object>() switch
                {
                    string s => s,
                    char c => c.ToString(),
                    var other => Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture) ?? "",
                }, sb, path);
                return;
            case JsonValueKind.True:
                sb.Append("true");
                return;
            case JsonValueKind.False:
                sb.Append("false");
                return;
            case JsonValueKind.Null:
                sb.Append("null");
                return;
            case JsonValueKind.Number:
                switch (value.GetValue<object>())
                {
                    case double d:
                        NumberLexeme.WriteDouble(d, sb);
                        return;
                    case float f:
                        NumberLexeme.WriteDouble(f, sb);
                        return;
                    case ulong ul:
                        NumberLexeme.WriteInteger(ul, sb, where);
                        return;
                    case long l:
                        NumberLexeme.WriteInteger(l, sb, where);
                        return;
                    case int or short or sbyte or byte or ushort or uint:
                        NumberLexeme.WriteInteger(Convert.ToInt64(value.GetValue<object>(), System.Globalization.CultureInfo.InvariantCulture), sb, where);
                        return;
                    case decimal m:
                        NumberLexeme.Write(Encoding.ASCII.GetBytes(m.ToString(System.Globalization.CultureInfo.InvariantCulture)), sb, where);
                        return;
                }
                break;
        }

        // Anything else (a custom type): serialize it and canonicalize the result.
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, JsonNodeContext.Default.JsonNode);
        Write(StrictJson.Parse(bytes), sb, path);
    }

    private static void WriteElement(JsonElement element, StringBuilder sb, List<object> path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                Write(JsonObject.Create(element), sb, path);
                return;
            case JsonValueKind.Array:
                Write(JsonArray.Create(element), sb, path);
                return;
            case JsonValueKind.String:
                string s;
                try
                {
                    s = element.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    throw new CanonicalizationException($"lone surrogate in the string at {JsonPath.Format(path)}", JsonPath.Format(path));
                }
                WriteString(s, sb, path);
                return;
            case JsonValueKind.Number:
                NumberLexeme.Write(Encoding.UTF8.GetBytes(element.GetRawText()), sb, () => JsonPath.Format(path));
                return;
            case JsonValueKind.True:
                sb.Append("true");
                return;
            case JsonValueKind.False:
                sb.Append("false");
                return;
            default:
                sb.Append("null");
                return;
        }
    }

    private static void WriteString(string s, StringBuilder sb, List<object> path)
    {
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\b':
                    sb.Append("\\b");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\f':
                    sb.Append("\\f");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u00").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        sb.Append(c).Append(s[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        var where = JsonPath.Format(path);
                        throw new CanonicalizationException($"lone surrogate U+{(int)c:X4} in the string at {where}", where);
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonNodeContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>SHA-256 in Signet's text form.</summary>
public static class SignetHash
{
    /// <summary>The genesis <c>prev_hash</c> of an audit chain: <c>sha256:</c> and 64 zeros.</summary>
    public const string Genesis = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary><c>"sha256:"</c> + lowercase hex of SHA-256 of the bytes.</summary>
    public static string Sha256(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(data, hash);
        return "sha256:" + Convert.ToHexStringLower(hash);
    }

    /// <summary>True if the text has the form <c>sha256:</c> + 64 lowercase hex digits.</summary>
    public static bool IsWellFormed(string? value) =>
        value is { Length: 71 } && value.StartsWith("sha256:", StringComparison.Ordinal) &&
        value.AsSpan(7).IndexOfAnyExcept("0123456789abcdef") < 0;
}
