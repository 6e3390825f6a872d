using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Trust;

/// <summary>One signature in a receipt that a trust bundle judges: the key, its role and the time the signer claims.</summary>
internal readonly record struct Signing(TrustSection Section, PublicKey Key, DateTimeOffset Time, string TimeText, string KeyField, string TimeField);

/// <summary>Judges a receipt's keys against a trust bundle at the receipt's own signing time (docs/trust.md).</summary>
internal static class ReceiptTrust
{
    /// <summary>
    /// The receipt's own signature: v1 and v4 signer at <c>ts</c> (v4: the delegation root, in roots), v2 signer at
    /// <c>ts_response</c> (it signs after the response), v3 server at <c>ts_response</c>. With
    /// <paramref name="nested"/>, also the agent inside a v3. Null entries: fields that do not parse (the receipt
    /// verifier reports those).
    /// </summary>
    public static IEnumerable<Signing> Signings(JsonObject json, bool nested)
    {
        var version = json["v"] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) ? n : 0;
        Signing? own = version switch
        {
            1 => Read(TrustSection.Agents, "signer.pubkey", json["signer"]?["pubkey"], "ts", json["ts"]),
            2 => Read(TrustSection.Agents, "signer.pubkey", json["signer"]?["pubkey"], "ts_response", json["ts_response"]),
            3 => Read(TrustSection.Servers, "server.pubkey", json["server"]?["pubkey"], "ts_response", json["ts_response"]),
            4 => Read(TrustSection.Roots, "authorization.root_pubkey", json["authorization"]?["root_pubkey"], "ts", json["ts"]),
            _ => null,
        };
        if (own is { } s)
        {
            yield return s;
        }
        if (nested && version == 3 && json["agent_receipt"] is JsonObject agent &&
            Read(TrustSection.Agents, "agent_receipt.signer.pubkey", agent["signer"]?["pubkey"], "agent_receipt.ts", agent["ts"]) is { } a)
        {
            yield return a;
        }
    }

    private static Signing? Read(TrustSection section, string keyField, JsonNode? key, string timeField, JsonNode? time)
    {
        var keyText = key is JsonValue kv && kv.GetValueKind() == JsonValueKind.String ? kv.GetValue<string>() : null;
        var timeText = time is JsonValue tv && tv.GetValueKind() == JsonValueKind.String ? tv.GetValue<string>() : null;
        return PublicKey.TryParse(keyText, out var k, out _) && ReceiptText.TryParseTimestamp(timeText, out var t)
            ? new Signing(section, k, t, timeText!, keyField, timeField)
            : null;
    }

    /// <summary>
    /// Null when the receipt's own signature is trusted by <paramref name="bundle"/> at its time (or at
    /// <paramref name="at"/> when given, the reference's rule); otherwise why not and the field.
    /// </summary>
    public static (string Reason, string Field)? Check(JsonObject json, TrustBundle bundle, DateTimeOffset? at)
    {
        var any = false;
        foreach (var s in Signings(json, nested: false))
        {
            any = true;
            if (Judge(bundle, s, at) is { } failure)
            {
                return failure;
            }
        }
        return any ? null : ("the receipt's signing key or time cannot be read, so the trust bundle cannot judge it", "v");
    }

    /// <summary>The decision for one signature, as a message naming the key, its entry, the end of its trust and the receipt's time.</summary>
    public static (string Reason, string Field)? Judge(TrustBundle bundle, Signing s, DateTimeOffset? at)
    {
        var decision = bundle.Evaluate(s.Section, s.Key, at ?? s.Time);
        if (decision.IsTrusted)
        {
            return null;
        }
        var section = TrustBundle.SectionName(s.Section);
        if (decision.Entry is not { } entry)
        {
            return ($"signed by key {s.Key}, which is not in the trust bundle's {section}", s.KeyField);
        }
        var when = at is { } fixedAt
            ? $"trust evaluated at {TrustBundle.FormatTime(fixedAt)} (--trust-at), which is not before it"
            : $"receipt {s.TimeField} {s.TimeText} is not before it";
        return ($"signed by key {s.Key} ({section}/{entry.Id}), which {TrustBundle.Ended(entry)}; {when}", at is null ? s.TimeField : s.KeyField);
    }
}
