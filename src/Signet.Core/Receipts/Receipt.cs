using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Canonicalization;

namespace Signet.Receipts;

/// <summary>
/// A signed receipt of any version, held as the JSON it was made or read as, so fields this version does not
/// know (newer reference features) survive a read → verify → write round trip untouched.
/// </summary>
/// <remarks>Treat <see cref="Json"/> as read-only; changing it invalidates the signature.</remarks>
public sealed class Receipt
{
    internal Receipt(JsonObject json) => Json = json;

    /// <summary>The receipt JSON.</summary>
    public JsonObject Json { get; }

    /// <summary>The version: 1 (request), 2 (request and response), 3 (server co-signature), 4 (delegated).</summary>
    public int Version => Json["v"] is JsonValue v && v.TryGetValue<int>(out var version) ? version : 0;

    /// <summary>The receipt id, <c>rec_</c> + 32 hex.</summary>
    public string Id => Text("id") ?? "";

    /// <summary>The signature, <c>ed25519:</c> + base64.</summary>
    public string Signature => Text("sig") ?? "";

    /// <summary>The tool name (of the embedded agent receipt for v3).</summary>
    public string? Tool => (Action?["tool"] as JsonValue)?.TryGetValue<string>(out var t) == true ? t : null;

    /// <summary>The signer's public key text (the server's for v3).</summary>
    public string? SignerKey => Version == 3 ? TextAt("server", "pubkey") : TextAt("signer", "pubkey");

    /// <summary>The signer's name (the server's for v3).</summary>
    public string? SignerName => Version == 3 ? TextAt("server", "name") : TextAt("signer", "name");

    /// <summary>The time the receipt speaks for: <c>ts</c>, or <c>ts_request</c> (v2), or <c>ts_response</c> (v3).</summary>
    public string? Timestamp => Version switch
    {
        2 => Text("ts_request"),
        3 => Text("ts_response"),
        _ => Text("ts"),
    };

    /// <summary>The action (of the embedded agent receipt for v3).</summary>
    public JsonObject? Action => Version == 3 ? (Json["agent_receipt"] as JsonObject)?["action"] as JsonObject : Json["action"] as JsonObject;

    /// <summary>Wraps receipt JSON that was parsed elsewhere (nothing is checked; use <see cref="ReceiptVerifier"/>).</summary>
    public static Receipt FromJson(JsonObject json) => new(json);

    /// <summary>Parses receipt JSON strictly (duplicate keys rejected); throws <see cref="JsonParseException"/>.</summary>
    public static Receipt Parse(string json) => Parse(StrictJson.ToUtf8(json));

    /// <summary>Parses receipt JSON strictly (duplicate keys rejected); throws <see cref="JsonParseException"/>.</summary>
    public static Receipt Parse(ReadOnlySpan<byte> utf8Json)
    {
        var node = StrictJson.Parse(utf8Json);
        return node is JsonObject obj ? new Receipt(obj) : throw new JsonParseException("a receipt must be a JSON object", 1, 1, "$", 0, JsonParseErrorKind.WrongShape);
    }

    /// <summary>The receipt as compact JSON (non-ASCII written raw), one line.</summary>
    public string ToJsonString() => ReceiptText.ToJson(Json);

    /// <summary>The receipt as indented JSON, for people.</summary>
    public string ToIndentedJsonString() => ReceiptText.ToJson(Json, indented: true);

    /// <inheritdoc/>
    public override string ToString() => ToJsonString();

    private string? Text(string field) => Json[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private string? TextAt(string obj, string field) =>
        (Json[obj] as JsonObject)?[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
