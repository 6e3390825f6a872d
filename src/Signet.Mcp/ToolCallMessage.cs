using System.Text.Json;
using System.Text.Json.Nodes;

namespace Signet.Mcp;

/// <summary>
/// The one rule every mode applies to a JSON-RPC message whose <c>method</c> is <c>tools/call</c>: it is signed when it
/// can be, and refused (never forwarded unsigned) when it cannot.
/// </summary>
public static class ToolCallMessage
{
    /// <summary>The method name.</summary>
    public const string Method = "tools/call";

    /// <summary>True when the message's <c>method</c> is the string <c>tools/call</c>.</summary>
    public static bool IsToolsCall(JsonObject message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message["method"] is JsonValue method && method.GetValueKind() == JsonValueKind.String && method.GetValue<string>() == Method;
    }

    /// <summary>
    /// Why a <c>tools/call</c> message cannot be signed, or null when it can: it needs an <c>id</c> that is a string or
    /// a number, <c>params</c> that is an object, and <c>params.name</c> that is a string.
    /// </summary>
    public static string? Problem(JsonObject message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var hasId = message.TryGetPropertyValue("id", out var id);
        var hasParams = message.TryGetPropertyValue("params", out var parameters);
        return Problem(hasId, id, hasParams, parameters);
    }

    /// <summary>Why a <c>tools/call</c> with this id and these params cannot be signed, or null when it can.</summary>
    /// <param name="hasId">Whether the message has an <c>id</c> member at all.</param>
    /// <param name="id">Its value.</param>
    /// <param name="hasParams">Whether the message has a <c>params</c> member at all.</param>
    /// <param name="parameters">Its value.</param>
    public static string? Problem(bool hasId, JsonNode? id, bool hasParams, JsonNode? parameters)
    {
        if (!hasId)
        {
            return "it has no id (it was sent as a notification), so it cannot be answered or matched with its receipt";
        }
        if (id is not JsonValue value || value.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Number))
        {
            return $"its id is {Kind(id)}, not a string or a number";
        }
        return hasParams ? ParamsProblem(parameters) : "it has no params";
    }

    /// <summary>Why a <c>tools/call</c>'s params cannot be signed (not an object, or no string <c>name</c>), or null when they can.</summary>
    public static string? ParamsProblem(JsonNode? parameters)
    {
        if (parameters is not JsonObject callParams)
        {
            return $"its params is {Kind(parameters)}, not an object";
        }
        if (!callParams.TryGetPropertyValue("name", out var name))
        {
            return "params.name (the tool) is missing";
        }
        if (name is not JsonValue nameValue || nameValue.GetValueKind() != JsonValueKind.String)
        {
            return $"params.name is {Kind(name)}, not a string";
        }
        return null;
    }

    private static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => "a number",
            JsonValueKind.String => "a string",
            _ => "null",
        },
    };
}
