using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Trust;

/// <summary>
/// Key rotation announced in the audit log: an ordinary v1 receipt, signed by the old key, for the reserved tool
/// <see cref="Tool"/>, whose params name the new key and carry the new key's signature over the announcement.
/// </summary>
/// <remarks>
/// The params are <c>{section, old_pubkey, new_pubkey, new_id, new_name, new_owner, old_until?, proof}</c>.
/// <c>proof</c> is the new key's Ed25519 signature (<c>ed25519:</c> + base64) over the RFC 8785 canonical JSON of the
/// other params plus <c>"purpose":"signet.key.rotate/v1"</c>, so nobody can announce a key they do not hold, and
/// the proof cannot be mistaken for a receipt signature. The receipt is a reference-format receipt: the reference
/// Signet verifies it as any other.
/// </remarks>
public static class KeyRotation
{
    /// <summary>The reserved tool name of an announcement.</summary>
    public const string Tool = "signet.key.rotate";

    /// <summary>The target of an announcement.</summary>
    public const string Target = "signet://trust";

    /// <summary>The <c>purpose</c> the proof of possession signs, so that it is never a valid signature of anything else.</summary>
    public const string ProofPurpose = "signet.key.rotate/v1";

    /// <summary>
    /// The action of an announcement that <paramref name="oldKey"/> hands <paramref name="section"/> trust over to
    /// <paramref name="newKey"/>; sign it with the old key (<see cref="ReceiptSigner.SignRequest"/>).
    /// </summary>
    /// <param name="oldKey">The key that signs the announcement.</param>
    /// <param name="newKey">The new key; it signs the proof of possession here.</param>
    /// <param name="section">The role the new key takes over.</param>
    /// <param name="newId">The new key's entry id in trust bundles.</param>
    /// <param name="newName">The new key's name.</param>
    /// <param name="newOwner">The new key's owner.</param>
    /// <param name="oldUntil">Until when the old key stays trusted (an overlap); null: up to the announcement itself.</param>
    public static ReceiptAction CreateAction(PublicKey oldKey, ISigner newKey, TrustSection section, string newId, string newName, string newOwner, DateTimeOffset? oldUntil = null)
    {
        ArgumentNullException.ThrowIfNull(oldKey);
        ArgumentNullException.ThrowIfNull(newKey);
        ArgumentException.ThrowIfNullOrEmpty(newId);
        if (oldKey.Equals(newKey.PublicKey))
        {
            throw new ArgumentException("the new key is the old key: a rotation needs a different key", nameof(newKey));
        }
        var announcement = new JsonObject
        {
            ["section"] = TrustBundle.SectionName(section),
            ["old_pubkey"] = oldKey.Text,
            ["new_pubkey"] = newKey.PublicKey.Text,
            ["new_id"] = newId,
            ["new_name"] = newName,
            ["new_owner"] = newOwner,
        };
        if (oldUntil is { } until)
        {
            announcement["old_until"] = ReceiptText.Timestamp(until);
        }
        announcement["proof"] = ReceiptText.FormatSignature(newKey.Sign(ProofMessage(announcement)));
        return new ReceiptAction { Tool = Tool, Params = announcement, Target = Target, Transport = "signet" };
    }

    private static byte[] ProofMessage(JsonObject announcement)
    {
        var signed = new JsonObject { ["purpose"] = ProofPurpose };
        foreach (var (name, value) in announcement)
        {
            if (name != "proof")
            {
                signed[name] = value?.DeepClone();
            }
        }
        return JsonCanonicalizer.Canonicalize(signed);
    }

    /// <summary>True when the receipt is an announcement (a v1 receipt for <see cref="Tool"/>), valid or not.</summary>
    internal static bool IsAnnouncement(JsonObject receipt) =>
        receipt["v"] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.ToJsonString() == "1" &&
        receipt["action"]?["tool"] is JsonValue t && t.GetValueKind() == JsonValueKind.String && t.GetValue<string>() == Tool;

    /// <summary>Reads an announcement receipt's params and checks the proof of possession and that the old key signed it.</summary>
    internal static Announcement Read(JsonObject receipt)
    {
        var p = receipt["action"]?["params"] as JsonObject ?? throw Bad("params must be an object (was the announcement signed with --hash-only?)");
        string Str(string name) => p[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw Bad($"params.{name} is missing or not a string");
        foreach (var (name, _) in p)
        {
            if (name is not ("section" or "old_pubkey" or "new_pubkey" or "new_id" or "new_name" or "new_owner" or "old_until" or "proof"))
            {
                throw Bad($"params.{name} is not part of an announcement");
            }
        }
        if (!TrustBundle.TryParseSection(Str("section"), out var section))
        {
            throw Bad($"params.section \"{Str("section")}\" is not roots, agents or servers");
        }
        if (!PublicKey.TryParse(Str("old_pubkey"), out var oldKey, out _) || !PublicKey.TryParse(Str("new_pubkey"), out var newKey, out _))
        {
            throw Bad("params.old_pubkey and params.new_pubkey must be ed25519: keys");
        }
        var signer = receipt["signer"]?["pubkey"] is JsonValue sv && sv.GetValueKind() == JsonValueKind.String ? sv.GetValue<string>() : null;
        if (!PublicKey.TryParse(signer, out var signerKey, out _) || !signerKey.Equals(oldKey))
        {
            throw Bad($"the announcement is signed by {signer}, not by the old key {oldKey} it retires");
        }
        DateTimeOffset? oldUntil = null;
        if (p.ContainsKey("old_until"))
        {
            oldUntil = ReceiptText.TryParseTimestamp(Str("old_until"), out var u) ? u : throw Bad("params.old_until is not an RFC 3339 time");
        }
        if (!ReceiptText.TryParseSignature(Str("proof"), out var proof) || !newKey.Verify(ProofMessage(p), proof))
        {
            throw Bad($"the proof of possession does not verify with the new key {newKey}: the announcer does not hold that key");
        }
        return new Announcement(section, oldKey, newKey, Str("new_id"), Str("new_name"), Str("new_owner"), oldUntil);
    }

    private static SignetException Bad(string why) => new($"rotation announcement refused: {why}");

    /// <summary>The end of the old key's trust: <c>old_until</c>, or the millisecond after the announcement (which itself must stay valid).</summary>
    internal static DateTimeOffset OldKeyEnd(DateTimeOffset announcedAt, DateTimeOffset? oldUntil) =>
        oldUntil is { } u && u > announcedAt ? u : announcedAt.AddMilliseconds(1);

    /// <summary>A verified announcement.</summary>
    internal sealed record Announcement(TrustSection Section, PublicKey OldKey, PublicKey NewKey, string NewId, string NewName, string NewOwner, DateTimeOffset? OldUntil);
}
