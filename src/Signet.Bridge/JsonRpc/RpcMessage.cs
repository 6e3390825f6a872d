using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Signet.Bridge.JsonRpc;

/// <summary>What a JSON-RPC message is, as far as routing needs to know.</summary>
internal enum RpcKind
{
    Request,
    Notification,
    Response,
    Invalid,
}

/// <summary>
/// One JSON-RPC message as raw, newline-free bytes plus the few fields routing needs. The bytes are forwarded
/// as they are; only a signed <c>tools/call</c> is re-serialized.
/// </summary>
internal sealed class RpcMessage
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public required byte[] Raw { get; init; }
    public required RpcKind Kind { get; init; }
    public string? Method { get; init; }

    /// <summary>The id in Signet's call-id form (<c>n:1</c>, <c>s:abc</c>), or null.</summary>
    public string? IdKey { get; init; }

    /// <summary>The progress token in call-id form, when the request asks for progress.</summary>
    public string? ProgressTokenKey { get; init; }

    /// <summary>The tool name of a tools/call (or the name of prompts/get), for header checks.</summary>
    public string? Name { get; init; }

    public bool IsToolCall => Kind == RpcKind.Request && Method == "tools/call";

    /// <summary>Splits a POST body into messages; a body that is not JSON throws <see cref="JsonException"/>.</summary>
    public static List<RpcMessage> ParseBody(ReadOnlySpan<byte> body, out bool isBatch)
    {
        using var doc = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 128 });
        var list = new List<RpcMessage>();
        if (doc.RootElement.ValueKind == JsonValueKind.Array)
        {
            isBatch = true;
            foreach (var element in doc.RootElement.EnumerateArray())
            {
                list.Add(FromElement(element, Flatten(Encoding.UTF8.GetBytes(element.GetRawText()))));
            }
        }
        else
        {
            isBatch = false;
            list.Add(FromElement(doc.RootElement, Flatten(body.ToArray())));
        }
        return list;
    }

    /// <summary>Classifies one line written by a backend; null when it is not JSON.</summary>
    public static RpcMessage? ParseLine(ReadOnlySpan<byte> line)
    {
        try
        {
            var copy = line.ToArray();
            using var doc = JsonDocument.Parse(copy);
            return FromElement(doc.RootElement, copy);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A message built from a node (signed calls and bridge-made errors), serialized without needless escaping.</summary>
    public static byte[] Serialize(JsonNode node)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            node.WriteTo(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A JSON-RPC error response with the id given in call-id form (null id when unknown).</summary>
    public static byte[] Error(string? idKey, int code, string message)
    {
        var error = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = IdNode(idKey), ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };
        return Serialize(error);
    }

    /// <summary>The JSON id node for a call-id key.</summary>
    public static JsonNode? IdNode(string? idKey) => idKey switch
    {
        null => null,
        ['s', ':', ..] => JsonValue.Create(idKey[2..]),
        ['n', ':', ..] => JsonNode.Parse(idKey[2..]),
        _ => null,
    };

    private static RpcMessage FromElement(JsonElement element, byte[] raw)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return new RpcMessage { Raw = raw, Kind = RpcKind.Invalid };
        }
        string? method = null;
        string? idKey = null;
        var hasId = false;
        var hasResult = false;
        string? progress = null;
        string? name = null;
        foreach (var property in element.EnumerateObject())
        {
            switch (property.Name)
            {
                case "method" when property.Value.ValueKind == JsonValueKind.String:
                    method = property.Value.GetString();
                    break;
                case "id":
                    hasId = true;
                    idKey = KeyOf(property.Value);
                    break;
                case "result" or "error":
                    hasResult = true;
                    break;
                case "params" when property.Value.ValueKind == JsonValueKind.Object:
                    if (property.Value.TryGetProperty("_meta", out var meta) && meta.ValueKind == JsonValueKind.Object
                        && meta.TryGetProperty("progressToken", out var token))
                    {
                        progress = KeyOf(token);
                    }
                    if (property.Value.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                    {
                        name = n.GetString();
                    }
                    break;
            }
        }
        var kind = method is not null
            ? (hasId ? (idKey is null ? RpcKind.Invalid : RpcKind.Request) : RpcKind.Notification)
            : (hasResult && hasId ? RpcKind.Response : RpcKind.Invalid);
        return new RpcMessage { Raw = raw, Kind = kind, Method = method, IdKey = idKey, ProgressTokenKey = progress, Name = name };
    }

    private static string? KeyOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "s:" + value.GetString(),
        JsonValueKind.Number => "n:" + value.GetRawText(),
        _ => null,
    };

    /// <summary>
    /// Replaces CR and LF by spaces. In valid JSON they can only be whitespace between tokens (inside strings they
    /// must be escaped), so this keeps the value and every other byte while making the message one stdio line.
    /// </summary>
    private static byte[] Flatten(byte[] bytes)
    {
        var span = bytes.AsSpan();
        int i;
        while ((i = span.IndexOfAny((byte)'\n', (byte)'\r')) >= 0)
        {
            span[i] = (byte)' ';
            span = span[(i + 1)..];
        }
        return bytes;
    }
}
