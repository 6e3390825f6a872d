using System.Text.Json.Nodes;

namespace Signet.Receipts;

/// <summary>What an agent asks a tool to do: the <c>action</c> of a receipt.</summary>
public sealed record ReceiptAction
{
    /// <summary>The tool name.</summary>
    public required string Tool { get; init; }

    /// <summary>The tool's arguments (any JSON; null allowed). The receipt holds a copy.</summary>
    public JsonNode? Params { get; init; }

    /// <summary>
    /// Hash-only mode: when <see cref="Params"/> is null, a caller-computed <c>sha256:…</c> hash of the arguments
    /// (the arguments themselves stay out of the receipt). Ignored when Params is set.
    /// </summary>
    public string? ParamsHash { get; init; }

    /// <summary>The tool server the call goes to, as a URI (e.g. <c>mcp://filesystem</c>).</summary>
    public required string Target { get; init; }

    /// <summary>How the call travels: <c>stdio</c>, <c>http</c>, ….</summary>
    public string Transport { get; init; } = "stdio";

    /// <summary>The MCP session, when there is one.</summary>
    public string? Session { get; init; }

    /// <summary>The JSON-RPC id in Signet's form, <c>n:7</c> or <c>s:abc</c>.</summary>
    public string? CallId { get; init; }

    /// <summary>A hash of the tool's response, for receipts made after the fact.</summary>
    public string? ResponseHash { get; init; }

    /// <summary>Groups the receipts of one workflow.</summary>
    public string? TraceId { get; init; }

    /// <summary>The receipt this one follows (e.g. an earlier attempt of the same call).</summary>
    public string? ParentReceiptId { get; init; }
}

