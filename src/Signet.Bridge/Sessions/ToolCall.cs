using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Bridge.JsonRpc;
using Signet.Canonicalization;

namespace Signet.Bridge.Sessions;

/// <summary>
/// A <c>tools/call</c> read strictly, or the reason it cannot be signed. The one place where the bridge decides that a
/// call is signable: any id shape but a string or number, no id, params that are not an object, a missing, non-string
/// or empty name, or JSON that does not read one way only (duplicate keys, lone surrogates, overflowing numbers) all
/// make a call that is refused (or, with fail-open, forwarded unsigned).
/// </summary>
internal sealed class ToolCall
{
    private ToolCall(RpcMessage wire, JsonObject? message, JsonObject? callParams, string? callId, string? tool, string? problem)
    {
        Wire = wire;
        Message = message;
        Params = callParams;
        CallId = callId;
        Tool = tool;
        Problem = problem;
    }

    /// <summary>The message as it arrived.</summary>
    public RpcMessage Wire { get; }

    /// <summary>The strictly parsed message (null when it did not parse).</summary>
    public JsonObject? Message { get; }

    /// <summary>The call's params, when they are an object.</summary>
    public JsonObject? Params { get; }

    /// <summary>The signed <c>call_id</c>: the id's lexeme as the client sent it (<c>n:1.0</c>, <c>s:abc</c>), when it is a string or number.</summary>
    public string? CallId { get; }

    /// <summary>The tool name, when it is a non-empty string.</summary>
    public string? Tool { get; }

    /// <summary>Why the call cannot be signed, or null when it can.</summary>
    public string? Problem { get; }

    /// <summary>How the call is named in logs: its call id, or a note about its id.</summary>
    public string Label => CallId ?? (Wire.HasId ? "(id " + Describe(Wire.RawId!) + ")" : "(no id)");

    /// <summary>Reads a message that <see cref="RpcMessage.IsToolCall"/> flagged. Never throws.</summary>
    public static ToolCall Read(RpcMessage wire)
    {
        JsonNode? node;
        try
        {
            node = StrictJson.Parse(wire.Raw);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Any failure of the strict reader (whatever it throws) means the call cannot be signed faithfully.
            var reason = e is JsonParseException p ? p.Message : e.Message;
            return new ToolCall(wire, null, null, null, null, "its JSON cannot be read one way only, so it cannot be signed faithfully (" + reason.TrimEnd('.') + ")");
        }
        if (node is not JsonObject message)
        {
            return new ToolCall(wire, null, null, null, null, "it is not a JSON object");
        }
        var callParams = message["params"] as JsonObject;
        var tool = callParams?["name"] is JsonValue n && n.GetValueKind() == JsonValueKind.String && n.GetValue<string>() is { Length: > 0 } s ? s : null;
        string? callId = null;
        string? problem;
        if (!message.TryGetPropertyValue("id", out var id))
        {
            problem = "it has no id (a notification), so no answer could be paired with its receipt";
        }
        else if ((callId = Signet.Mcp.CallId.From(id)) is null)
        {
            problem = $"its id is {KindOf(id)}, not a string or number";
        }
        else
        {
            problem = null;
        }
        problem ??= !message.TryGetPropertyValue("params", out var rawParams) ? "it has no params"
            : rawParams is not JsonObject ? $"its params is {KindOf(rawParams)}, not an object"
            : !callParams!.TryGetPropertyValue("name", out var name) ? "params.name is missing"
            : name is not JsonValue v || v.GetValueKind() != JsonValueKind.String ? $"params.name is {KindOf(name)}, not a string"
            : tool is null ? "params.name is empty"
            : null;
        return new ToolCall(wire, message, callParams, callId, tool, problem);
    }

    private static string KindOf(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => "a number",
        JsonValueKind.String => "a string",
        _ => "not a value",
    };

    private static string Describe(byte[] rawId)
    {
        var text = System.Text.Encoding.UTF8.GetString(rawId);
        return text.Length <= 40 ? text : text[..40] + "…";
    }
}
