using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Receipts;
using Signet.Transparency;

namespace Signet.Keys;

/// <summary>
/// What the signer agent agrees to sign: the bytes of a Signet signable, recognised from the bytes alone. Anything else
/// (a hash, a challenge, another protocol's message) is refused, so a process that can reach the agent still cannot
/// make it sign for something that is not Signet evidence.
/// </summary>
/// <remarks>
/// The kinds, and how each is told apart:
/// <list type="bullet">
/// <item><c>receipt-v1</c> … <c>receipt-v4</c>: RFC 8785 canonical JSON whose signable, rebuilt by <see cref="Signable"/>,
/// is exactly these bytes, and whose <c>signer.pubkey</c> (<c>server.pubkey</c> for a v3 co-signature) is the agent's key.</item>
/// <item><c>bundle-manifest</c>: the canonical JSON of an evidence bundle's manifest (<c>format_version</c> 1, its record
/// fields, no <c>signature</c> member).</item>
/// <item><c>cosignature</c>: <c>cosignature/v1\ntime N\n</c> followed by a well-formed checkpoint body.</item>
/// <item><c>checkpoint</c>: a well-formed checkpoint note body (origin, size, root hash).</item>
/// </list>
/// </remarks>
internal static class AgentSignables
{
    private static readonly byte[] CosignaturePrefix = "cosignature/v1\ntime "u8.ToArray();

    private static readonly string[] ManifestFields =
        ["format_version", "producer", "generated_at", "host", "record_count", "chain_start_prev_hash", "chain_tip_record_hash", "records_sha256"];

    /// <summary>Recognises the bytes, or says why they are refused.</summary>
    public static AgentSignable Classify(ReadOnlySpan<byte> data, PublicKey key)
    {
        if (data.IsEmpty)
        {
            return AgentSignable.Refused("the data is empty");
        }
        try
        {
            if (data[0] == (byte)'{')
            {
                return ClassifyJson(data, key);
            }
            if (data.StartsWith(CosignaturePrefix))
            {
                return ClassifyCosignature(data);
            }
            var text = Strict.GetString(data);
            var problem = SignedNote.TextProblem(text, out var line);
            if (problem is not null)
            {
                return AgentSignable.Refused($"not a Signet signable (neither a receipt, a bundle manifest nor a checkpoint: line {line}: {problem})");
            }
            var checkpoint = Checkpoint.Parse(text);
            return new AgentSignable("checkpoint", null, null, $"{checkpoint.Origin} size {checkpoint.Size}");
        }
        catch (Exception e) when (e is SignetException or DecoderFallbackException or FormatException)
        {
            return AgentSignable.Refused("not a Signet signable: " + e.Message);
        }
    }

    private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    private static AgentSignable ClassifyCosignature(ReadOnlySpan<byte> data)
    {
        var text = Strict.GetString(data);
        var timeEnd = text.IndexOf('\n', CosignaturePrefix.Length);
        var seconds = timeEnd < 0 ? "" : text[CosignaturePrefix.Length..timeEnd];
        if (seconds.Length == 0 || seconds.Length > 20 || !seconds.All(char.IsAsciiDigit) || (seconds.Length > 1 && seconds[0] == '0'))
        {
            return AgentSignable.Refused("not a Signet signable: a cosignature/v1 message needs a time line of decimal seconds");
        }
        var checkpoint = Checkpoint.Parse(text[(timeEnd + 1)..]);
        return new AgentSignable("cosignature", null, null, $"{checkpoint.Origin} size {checkpoint.Size}");
    }

    private static AgentSignable ClassifyJson(ReadOnlySpan<byte> data, PublicKey key)
    {
        if (!data.SequenceEqual(JsonCanonicalizer.Canonicalize(data)))
        {
            return AgentSignable.Refused("not a Signet signable: JSON that is not in RFC 8785 canonical form");
        }
        if (StrictJson.Parse(data) is not JsonObject json)
        {
            return AgentSignable.Refused("not a Signet signable: not a JSON object");
        }
        if (json.ContainsKey("format_version"))
        {
            return ClassifyManifest(json);
        }
        if (json["v"] is not JsonValue v || !v.TryGetValue<int>(out var version) || version is < 1 or > 4)
        {
            return AgentSignable.Refused("not a Signet signable: JSON without a receipt version v (1 to 4) or a manifest format_version");
        }
        if (!data.SequenceEqual(Signable.Canonical(json, version)))
        {
            return AgentSignable.Refused($"not a Signet signable: the JSON is not exactly a v{version} receipt's signable (a field is missing or extra)");
        }
        var signerField = version == 3 ? "server" : "signer";
        var signer = json[signerField]?["pubkey"]?.GetValue<string>();
        if (signer != key.Text)
        {
            return AgentSignable.Refused($"the receipt's {signerField}.pubkey is {signer}, not this agent's key {key.Text}");
        }
        var action = version == 3 ? json["agent_receipt"]?["action"] : json["action"];
        var tool = action?["tool"]?.GetValue<string>();
        return new AgentSignable($"receipt-v{version}", tool, version == 3 ? json["agent_receipt"]?["id"]?.GetValue<string>() : null, null);
    }

    private static AgentSignable ClassifyManifest(JsonObject json)
    {
        if (json["format_version"] is not JsonValue f || !f.TryGetValue<int>(out var format) || format != 1)
        {
            return AgentSignable.Refused("not a Signet signable: an evidence bundle manifest of format_version other than 1");
        }
        if (json.ContainsKey("signature"))
        {
            return AgentSignable.Refused("not a Signet signable: a bundle manifest is signed without its signature member");
        }
        foreach (var field in ManifestFields)
        {
            if (!json.ContainsKey(field))
            {
                return AgentSignable.Refused($"not a Signet signable: a bundle manifest without {field}");
            }
        }
        if (json["records_sha256"] is not JsonValue h || h.GetValueKind() != JsonValueKind.String || json["record_count"]?.GetValueKind() != JsonValueKind.Number)
        {
            return AgentSignable.Refused("not a Signet signable: a bundle manifest's record_count or records_sha256 has the wrong type");
        }
        return new AgentSignable("bundle-manifest", null, null, $"{json["record_count"]} records");
    }
}

/// <summary>What the agent made of bytes it was asked to sign: a kind and what to log about it, or why it refuses.</summary>
/// <param name="Kind">The signable kind (<c>receipt-v1</c>, <c>checkpoint</c>, …), or null when refused.</param>
/// <param name="Tool">The tool of a receipt.</param>
/// <param name="CoSignedReceipt">The id of the agent receipt a v3 receipt co-signs.</param>
/// <param name="Detail">A short description for the log, or the reason for a refusal.</param>
internal readonly record struct AgentSignable(string? Kind, string? Tool, string? CoSignedReceipt, string? Detail)
{
    public bool IsRefused => Kind is null;

    public static AgentSignable Refused(string reason) => new(null, null, null, reason);
}
