using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

using Signet.Canonicalization;

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
/// as they are; only a signed <c>tools/call</c> is re-serialized. Reading a message never throws: what cannot be read
/// is <see cref="RpcKind.Invalid"/>, and a <c>tools/call</c> among those is still recognised as one.
/// </summary>
internal sealed class RpcMessage
{
    private const int MaxDepth = 128;
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public required byte[] Raw { get; init; }
    public required RpcKind Kind { get; init; }
    public string? Method { get; init; }

    /// <summary>The id's match key (see <see cref="RpcId"/>), or null when there is no id or it cannot be matched.</summary>
    public string? IdKey { get; init; }

    /// <summary>The id exactly as the sender wrote it (raw JSON), or null when the message has no <c>id</c> member.</summary>
    public byte[]? RawId { get; init; }

    /// <summary>The progress token's match key: of a request that asks for progress, or of a <c>notifications/progress</c>.</summary>
    public string? ProgressTokenKey { get; init; }

    /// <summary>The tool name of a tools/call (or the name of prompts/get), for header checks.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// True when any <c>method</c> member of the object is the string <c>tools/call</c> (escapes decoded), whatever the
    /// rest of the message looks like: such a message is signed or refused, never passed on as it is.
    /// </summary>
    public bool IsToolCall { get; init; }

    /// <summary>For <c>notifications/cancelled</c>: the match key of the request it cancels.</summary>
    public string? CancelledKey { get; init; }

    /// <summary>True when the sender expects an answer: the message has an <c>id</c> member.</summary>
    public bool HasId => RawId is not null;

    /// <summary>
    /// Splits a POST body into messages. False, with a message naming the byte offset, when the body is not UTF-8 or
    /// not one JSON value.
    /// </summary>
    public static bool TryParseBody(byte[] body, out List<RpcMessage> messages, out bool isBatch, out string? error)
    {
        messages = [];
        isBatch = false;
        if (InvalidUtf8Offset(body) is { } bad)
        {
            error = $"Parse error: the body is not valid UTF-8 (invalid byte 0x{body[bad]:x2} at byte offset {bad.ToString(CultureInfo.InvariantCulture)})";
            return false;
        }
        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxDepth });
            if (doc.RootElement.ValueKind == JsonValueKind.Array)
            {
                isBatch = true;
                foreach (var element in doc.RootElement.EnumerateArray())
                {
                    messages.Add(FromElement(element, Flatten(JsonMarshal.GetRawUtf8Value(element).ToArray())));
                }
            }
            else
            {
                messages.Add(FromElement(doc.RootElement, Flatten((byte[])body.Clone())));
            }
            error = null;
            return true;
        }
        catch (JsonException e)
        {
            var offset = Offset(body, e.LineNumber ?? 0, e.BytePositionInLine ?? 0);
            error = $"Parse error: the body is not valid JSON at byte offset {offset.ToString(CultureInfo.InvariantCulture)}: {ReaderReason(e)}";
            return false;
        }
    }

    /// <summary>Classifies one line written by a backend; null, with the reason, when it is not UTF-8 JSON. Never throws.</summary>
    public static RpcMessage? ParseLine(ReadOnlySpan<byte> line, out string? problem)
    {
        var copy = line.ToArray();
        if (InvalidUtf8Offset(copy) is { } bad)
        {
            problem = $"invalid UTF-8 at byte offset {bad.ToString(CultureInfo.InvariantCulture)}";
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(copy, new JsonDocumentOptions { MaxDepth = MaxDepth });
            problem = null;
            return FromElement(doc.RootElement, copy);
        }
        catch (JsonException e)
        {
            problem = $"not JSON at byte offset {Offset(copy, e.LineNumber ?? 0, e.BytePositionInLine ?? 0).ToString(CultureInfo.InvariantCulture)}: {ReaderReason(e)}";
            return null;
        }
    }

    /// <summary>Classifies one line written by a backend; null when it is not UTF-8 JSON.</summary>
    public static RpcMessage? ParseLine(ReadOnlySpan<byte> line) => ParseLine(line, out _);

    /// <summary>
    /// The <c>id</c> of a JSON-RPC object read from the start of its text, which may be cut short or broken further on
    /// (an oversized body, an unreadable backend line): the raw id when it is a string, number or null that was read
    /// whole before anything went wrong, else null. <paramref name="isAnswer"/> tells whether the members read name a
    /// response (a <c>result</c> or <c>error</c> member and no <c>method</c>). Never throws.
    /// </summary>
    public static byte[]? PeekId(ReadOnlySpan<byte> start, out bool isAnswer)
    {
        isAnswer = false;
        byte[]? id = null;
        bool sawMethod = false, sawResult = false;
        try
        {
            var reader = new Utf8JsonReader(start, isFinalBlock: false, new JsonReaderState(new JsonReaderOptions { MaxDepth = MaxDepth }));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                sawMethod |= reader.ValueTextEquals("method"u8);
                sawResult |= reader.ValueTextEquals("result"u8) || reader.ValueTextEquals("error"u8);
                if (!reader.Read())
                {
                    break;
                }
                if (isId && id is null && reader.TokenType is JsonTokenType.String or JsonTokenType.Number or JsonTokenType.Null
                    // A number at the very end of the text may be cut short; a string or null is complete once read.
                    && !(reader.TokenType == JsonTokenType.Number && reader.BytesConsumed == start.Length))
                {
                    var raw = start[(int)reader.TokenStartIndex..(int)reader.BytesConsumed].ToArray();
                    id = Utf8.IsValid(raw) ? raw : null;
                }
                if (!reader.TrySkip())
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            // What was read so far stands.
        }
        isAnswer = sawResult && !sawMethod;
        return id;
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

    /// <summary>A JSON-RPC error response whose id is written exactly as the sender sent it (<c>null</c> when unknown).</summary>
    public static byte[] Error(byte[]? rawId, int code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WritePropertyName("id");
            if (rawId is null || !IsJsonValue(rawId))
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteRawValue(rawId, skipInputValidation: true);
            }
            writer.WriteStartObject("error");
            writer.WriteNumber("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static bool IsJsonValue(byte[] raw)
    {
        try
        {
            var reader = new Utf8JsonReader(raw);
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The offset of the first byte that is not part of valid UTF-8, or null when all of it is valid.</summary>
    public static int? InvalidUtf8Offset(ReadOnlySpan<byte> bytes) =>
        StrictJson.IndexOfInvalidUtf8(bytes) is var offset and >= 0 ? offset : null;

    private static RpcMessage FromElement(JsonElement element, byte[] raw)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return new RpcMessage { Raw = raw, Kind = RpcKind.Invalid };
        }
        var isToolCall = false;
        string? method = null;
        var methodReadable = true;
        byte[]? rawId = null;
        string? idKey = null;
        var hasResult = false;
        string? progress = null;
        string? name = null;
        string? cancelled = null;
        JsonElement? callParams = null;
        try
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals("method"u8))
                {
                    if (property.Value.ValueKind == JsonValueKind.String)
                    {
                        isToolCall |= property.Value.ValueEquals("tools/call"u8);
                        method = ReadString(property.Value, ref methodReadable);
                    }
                    else
                    {
                        method = null;
                    }
                }
                else if (property.NameEquals("id"u8))
                {
                    rawId = JsonMarshal.GetRawUtf8Value(property.Value).ToArray();
                    idKey = RpcId.MatchKey(property.Value);
                }
                else if (property.NameEquals("result"u8) || property.NameEquals("error"u8))
                {
                    hasResult = true;
                }
                else if (property.NameEquals("params"u8))
                {
                    callParams = property.Value;
                }
            }
            if (callParams is { ValueKind: JsonValueKind.Object } p)
            {
                if (p.TryGetProperty("_meta"u8, out var meta) && meta.ValueKind == JsonValueKind.Object
                    && meta.TryGetProperty("progressToken"u8, out var token))
                {
                    progress = RpcId.MatchKey(token);
                }
                else if (method == "notifications/progress" && p.TryGetProperty("progressToken"u8, out var progressed))
                {
                    progress = RpcId.MatchKey(progressed);
                }
                if (p.TryGetProperty("name"u8, out var n) && n.ValueKind == JsonValueKind.String)
                {
                    var readable = true;
                    name = ReadString(n, ref readable);
                }
                if (method == "notifications/cancelled" && p.TryGetProperty("requestId"u8, out var requestId))
                {
                    cancelled = RpcId.MatchKey(requestId);
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException or ArgumentException)
        {
            return new RpcMessage { Raw = raw, Kind = RpcKind.Invalid, IsToolCall = isToolCall, RawId = rawId };
        }
        var kind = method is not null && methodReadable
            ? (rawId is not null ? (idKey is null ? RpcKind.Invalid : RpcKind.Request) : RpcKind.Notification)
            : (method is null && methodReadable && hasResult && rawId is not null ? RpcKind.Response : RpcKind.Invalid);
        return new RpcMessage
        {
            Raw = raw, Kind = kind, Method = method, IdKey = idKey, RawId = rawId, ProgressTokenKey = progress, Name = name,
            IsToolCall = isToolCall, CancelledKey = cancelled,
        };
    }

    private static string? ReadString(JsonElement value, ref bool readable)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            readable = false;
            return null;
        }
    }

    private static long Offset(ReadOnlySpan<byte> bytes, long line, long positionInLine)
    {
        long start = 0;
        for (long l = 0; l < line; l++)
        {
            var next = bytes[(int)start..].IndexOf((byte)'\n');
            if (next < 0)
            {
                break;
            }
            start += next + 1;
        }
        return Math.Min(start + positionInLine, bytes.Length);
    }

    private static string ReaderReason(JsonException e)
    {
        // System.Text.Json appends its own " LineNumber: … | BytePositionInLine: …"; the offset is reported instead.
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }

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
