using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Receipts;

namespace Signet.Trust;

/// <summary>
/// Judges the records of one log against a trust bundle, in chain order: each signature at its receipt's time,
/// rotations announced in the log, and receipts backdated to before a revocation that the chain shows was already past.
/// </summary>
internal sealed class LogTrust(TrustBundle bundle, DateTimeOffset? at)
{
    private TrustBundle _bundle = bundle;
    private readonly Dictionary<(TrustSection, string), DateTimeOffset> _announced = [];
    private DateTimeOffset? _latest;
    private string? _latestWhere;

    public List<AuditKeyRotation> Rotations { get; } = [];

    /// <summary>Null when the record's receipt is trusted; otherwise why not. Call once per record, in chain order.</summary>
    public string? Check(JsonObject receipt, string file, long line)
    {
        string? failure = null;
        var latest = _latest;
        foreach (var s in ReceiptTrust.Signings(receipt, nested: true))
        {
            failure ??= Judge(s);
            if (latest is null || s.Time > latest)
            {
                latest = s.Time;
            }
        }
        if (KeyRotation.IsAnnouncement(receipt))
        {
            Announce(receipt, file, line, failure, ref failure);
        }
        if (latest != _latest)
        {
            _latest = latest;
            _latestWhere = $"{Path.GetFileName(file)} line {line}";
        }
        return failure;
    }

    private string? Judge(Signing s)
    {
        if (ReceiptTrust.Judge(_bundle, s, at) is { } untrusted)
        {
            return untrusted.Reason;
        }
        if (at is not null)
        {
            return null;
        }
        var name = TrustBundle.SectionName(s.Section);
        if (_announced.TryGetValue((s.Section, s.Key.Text), out var from) && s.Time < from)
        {
            return $"signed by key {s.Key} ({name}), announced in this log at {ReceiptText.Timestamp(from)}; receipt {s.TimeField} {s.TimeText} is before its announcement";
        }
        // Records are appended in order, so a receipt dated before its key's revocation that follows a record dated
        // at or after the revocation was signed later than it claims: backdated, by whoever held the key then.
        var entry = _bundle.Evaluate(s.Section, s.Key, s.Time).Entry!;
        if (entry.TrustedUntil is { } end && _latest is { } latest && latest >= end)
        {
            return $"signed by key {s.Key} ({name}/{entry.Id}), which {TrustBundle.Ended(entry)}; receipt {s.TimeField} {s.TimeText} is before that, " +
                   $"but the record follows {_latestWhere}, dated {ReceiptText.Timestamp(latest)}: backdated after the key's trust ended";
        }
        return null;
    }

    private void Announce(JsonObject receipt, string file, long line, string? signerFailure, ref string? failure)
    {
        var id = receipt["id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        var signer = ReceiptTrust.Signings(receipt, nested: false).FirstOrDefault();
        KeyRotation.Announcement a;
        try
        {
            a = KeyRotation.Read(receipt);
        }
        catch (SignetException e)
        {
            Rotations.Add(new AuditKeyRotation(file, line, id, null, signer.Key, null, false, e.Message));
            failure ??= e.Message;
            return;
        }
        if (signerFailure is not null)
        {
            var why = $"rotation to {a.NewKey} ignored: the announcing key was not trusted: {signerFailure}";
            Rotations.Add(new AuditKeyRotation(file, line, id, a.Section, a.OldKey, a.NewKey, false, why));
            failure = why;
            return;
        }
        var time = signer.Time;
        if (_bundle.Evaluate(a.Section, a.OldKey, at ?? time) is not { IsTrusted: true, Entry: { } old })
        {
            var why = $"rotation to {a.NewKey} ignored: the announcing key {a.OldKey} is not trusted in {TrustBundle.SectionName(a.Section)} at {signer.TimeText}";
            Rotations.Add(new AuditKeyRotation(file, line, id, a.Section, a.OldKey, a.NewKey, false, why));
            failure ??= why;
            return;
        }
        var end = KeyRotation.OldKeyEnd(time, a.OldUntil);
        if (old.TrustedUntil is null || end < old.TrustedUntil)
        {
            _bundle = _bundle.WithReplaced(a.Section, old.Id, old.EndedAt(end, revoke: false));
        }
        if (_bundle.Section(a.Section).All(e => !e.PublicKey.Equals(a.NewKey)))
        {
            var newId = _bundle.Section(a.Section).Any(e => e.Id == a.NewId) ? $"{a.NewId}@{id}" : a.NewId;
            _bundle = _bundle.WithEntry(a.Section, new TrustEntry
            {
                Id = newId,
                Name = a.NewName,
                Owner = a.NewOwner,
                PublicKey = a.NewKey,
                CreatedAt = time,
                Comment = $"announced in the log by {old.Id} ({id})",
            });
            _announced[(a.Section, a.NewKey.Text)] = time;
        }
        Rotations.Add(new AuditKeyRotation(file, line, id, a.Section, a.OldKey, a.NewKey, true, null));
    }
}
