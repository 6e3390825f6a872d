using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Receipts;

namespace Signet.Mcp.Recording;

/// <summary>Reads a tools/call response the way both ends of a call must read it, so their receipts agree.</summary>
internal static class ToolCallOutcome
{
    /// <summary>
    /// <c>failed</c> with the error message for a JSON-RPC error, <c>failed</c> with the first text content for a
    /// result with <c>isError: true</c>, no outcome for an MRTR input-required answer (the call has not run yet),
    /// otherwise <c>executed</c>.
    /// </summary>
    public static ReceiptOutcome? Infer(JsonNode? result, JsonNode? error)
    {
        if (error is not null)
        {
            return ReceiptOutcome.Failed(Text((error as JsonObject)?["message"]) ?? error.ToJsonString());
        }
        if (result is JsonObject r)
        {
            if (IsInputRequired(r))
            {
                return null;
            }
            if (r["isError"] is JsonValue flag && flag.GetValueKind() == JsonValueKind.True)
            {
                return ReceiptOutcome.Failed(FirstText(r));
            }
        }
        return ReceiptOutcome.Executed;
    }

    /// <summary>True for an MRTR (2026-07-28) answer that asks the client for input before the call can complete.</summary>
    public static bool IsInputRequired(JsonObject result) => Text(result["resultType"]) == "input_required";

    /// <summary>The <c>_meta</c> key prefix the MCP spec reserves for the protocol itself (added per hop by SDKs).</summary>
    public const string ProtocolMetaPrefix = "io.modelcontextprotocol/";

    /// <summary>
    /// The response content that v2 and v3 receipts hash, the same at both ends: the tool's answer as the application
    /// produced it. That is the result (or error object) without the protocol fields an SDK adds per hop after the
    /// tool answered (top-level <c>resultType</c> and <c>_meta</c> keys under <c>io.modelcontextprotocol/</c>, e.g.
    /// <c>serverInfo</c>, on 2026-07-28), without Signet co-signature keys, and without <c>_meta</c> when that leaves it
    /// empty. The input is never modified; a copy is made only when something is removed.
    /// </summary>
    /// <param name="content">The JSON-RPC result or error object.</param>
    /// <param name="coSignature">The co-signature node that was found (detached copy), or null.</param>
    /// <param name="coSignatureKey">The key it was found under, or null when there was none.</param>
    public static JsonNode? WithoutCoSignature(JsonNode? content, out JsonNode? coSignature, out string? coSignatureKey)
    {
        coSignature = null;
        coSignatureKey = null;
        if (content is not JsonObject obj)
        {
            return content;
        }
        var meta = obj["_meta"] as JsonObject;
        var strip = obj.ContainsKey("resultType") || meta is { Count: 0 } || (meta is not null && meta.Any(p => IsStripped(p.Key)));
        if (!strip)
        {
            return content;
        }
        var copy = obj.DeepClone().AsObject();
        copy.Remove("resultType");
        if (copy["_meta"] is JsonObject copyMeta)
        {
            coSignatureKey = copyMeta.ContainsKey(SignetMetaKeys.CoSignature) ? SignetMetaKeys.CoSignature
                : copyMeta.ContainsKey(SignetMetaKeys.ReferenceCoSignature) ? SignetMetaKeys.ReferenceCoSignature : null;
            if (coSignatureKey is not null)
            {
                coSignature = copyMeta[coSignatureKey];
            }
            foreach (var key in copyMeta.Select(p => p.Key).Where(IsStripped).ToList())
            {
                copyMeta.Remove(key);
            }
            if (copyMeta.Count == 0)
            {
                copy.Remove("_meta");
            }
        }
        return copy;
    }

    private static bool IsStripped(string key) =>
        key is SignetMetaKeys.CoSignature or SignetMetaKeys.ReferenceCoSignature || key.StartsWith(ProtocolMetaPrefix, StringComparison.Ordinal);

    private static string? FirstText(JsonObject result)
    {
        if (result["content"] is JsonArray items)
        {
            foreach (var item in items)
            {
                if (item is JsonObject block && Text(block["type"]) == "text" && Text(block["text"]) is { } text)
                {
                    return text;
                }
            }
        }
        return null;
    }

    internal static string? Text(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
