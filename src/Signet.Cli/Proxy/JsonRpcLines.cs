using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Mcp;

namespace Signet.Cli.Proxy;

/// <summary>Writes the few JSON-RPC lines the proxy produces itself, and re-serializes parsed messages compactly.</summary>
internal static class JsonRpcLines
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Keep non-ASCII and HTML-sensitive characters as they are: the TS SDK writes them raw, and escaping them
        // would change the bytes a server sees for no reason. StrictJson keeps number lexemes, so numbers survive too.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };

    /// <summary>The compact UTF-8 form of a node followed by <paramref name="terminator"/>.</summary>
    public static byte[] Serialize(JsonNode? node, ReadOnlySpan<byte> terminator)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            if (node is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                node.WriteTo(writer);
            }
        }
        buffer.Write(terminator);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A JSON-RPC error response for <paramref name="id"/> (null: the id could not be read).</summary>
    public static JsonObject Error(JsonNode? id, string message) => new()
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id?.DeepClone(),
        ["error"] = new JsonObject
        {
            ["code"] = ToolCallRefusedException.JsonRpcErrorCode,
            ["message"] = message,
        },
    };

    /// <summary>
    /// A JSON-RPC error line whose id is <paramref name="rawId"/> exactly as the client sent it (any JSON value, even
    /// one with bytes that are not UTF-8); <c>null</c> when it is empty.
    /// </summary>
    public static byte[] RawIdErrorLine(ReadOnlyMemory<byte> rawId, string message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WritePropertyName("id");
            if (rawId.IsEmpty)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteRawValue(rawId.Span, skipInputValidation: true);
            }
            writer.WriteStartObject("error");
            writer.WriteNumber("code", ToolCallRefusedException.JsonRpcErrorCode);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The line form of <see cref="Error"/>.</summary>
    public static byte[] ErrorLine(JsonNode? id, string message) => Serialize(Error(id, message), "\n"u8);
}
