using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Signet.Canonicalization;

/// <summary>
/// Names what in a <see cref="JsonNode"/> tree has no canonical form, once the one canonical writer
/// (<see cref="Utf8CanonicalWriter"/>) has refused it. It writes nothing: it only walks the tree in canonical order
/// (members sorted as the output would be) and throws the first problem with its JSON path, so the message and path
/// do not depend on the order in which the members were inserted.
/// </summary>
/// <remarks>Only runs after a refusal; the bytes of an accepted value come from the writer alone.</remarks>
internal static class CanonicalProblem
{
    /// <summary>Throws the <see cref="CanonicalizationException"/> or <see cref="JsonParseException"/> that says why <paramref name="node"/> was refused.</summary>
    [DoesNotReturn]
    public static void Throw(JsonNode? node)
    {
        var path = new List<object>();
        Check(node, path, new StringBuilder(32));
        // Nothing else in a tree is refused: it was nested deeper than the writer goes.
        throw new CanonicalizationException($"the value is nested deeper than {Utf8CanonicalWriter.MaxNodeDepth} levels", "$");
    }

    private static void Check(JsonNode? node, List<object> path, StringBuilder number)
    {
        switch (node)
        {
            case null:
                return;
            case JsonObject obj:
                {
                    var members = obj.ToArray();
                    Array.Sort(members, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
                    foreach (var member in members)
                    {
                        path.Add(member.Key);
                        String(member.Key, path);
                        Check(member.Value, path, number);
                        path.RemoveAt(path.Count - 1);
                    }
                    return;
                }
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    path.Add(i);
                    Check(array[i], path, number);
                    path.RemoveAt(path.Count - 1);
                }
                return;
            case JsonValue value:
                Value(value, path, number);
                return;
            default:
                throw new CanonicalizationException($"unsupported JSON node {node.GetType().Name} at {Where(path)}", Where(path));
        }
    }

    private static void Value(JsonValue value, List<object> path, StringBuilder number)
    {
        if (value.TryGetValue<JsonElement>(out var element))
        {
            Element(element, path, number);
            return;
        }
        if (value.TryGetValue<string>(out var s))
        {
            String(s, path);
            return;
        }
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                String(Utf8CanonicalWriter.ClrString(value), path);
                return;
            case JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null:
                return;
            case JsonValueKind.Number:
                number.Clear();
                switch (value.GetValue<object>())
                {
                    case double d:
                        NumberLexeme.WriteDouble(d, number);
                        return;
                    case float f:
                        NumberLexeme.WriteDouble(f, number);
                        return;
                    case ulong ul:
                        NumberLexeme.WriteInteger(ul, number, () => Where(path));
                        return;
                    case long l:
                        NumberLexeme.WriteInteger(l, number, () => Where(path));
                        return;
                    case int or short or sbyte or byte or ushort or uint:
                        return; // always safe
                    case decimal m:
                        NumberLexeme.Write(Encoding.ASCII.GetBytes(m.ToString(CultureInfo.InvariantCulture)), number, () => Where(path));
                        return;
                }
                break;
        }

        // A custom type: what it serializes to, read strictly.
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, JsonNodeContext.Default.JsonNode);
        Check(StrictJson.Parse(bytes), path, number);
    }

    private static void Element(JsonElement element, List<object> path, StringBuilder number)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                Check(JsonObject.Create(element), path, number);
                return;
            case JsonValueKind.Array:
                Check(JsonArray.Create(element), path, number);
                return;
            case JsonValueKind.String:
                string s;
                try
                {
                    s = element.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    throw new CanonicalizationException($"the string at {Where(path)} is not valid Unicode (invalid UTF-8 or a lone surrogate)", Where(path));
                }
                String(s, path);
                return;
            case JsonValueKind.Number:
                number.Clear();
                NumberLexeme.Write(Encoding.UTF8.GetBytes(element.GetRawText()), number, () => Where(path));
                return;
        }
    }

    private static void String(string s, List<object> path)
    {
        var lone = Utf8CanonicalWriter.IndexOfLoneSurrogate(s);
        if (lone >= 0)
        {
            throw new CanonicalizationException($"lone surrogate U+{(int)s[lone]:X4} in the string at {Where(path)}", Where(path));
        }
    }

    private static string Where(List<object> path) => JsonPath.Format(path);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonNodeContext : System.Text.Json.Serialization.JsonSerializerContext;
