using System.Globalization;
using System.Text.Json.Nodes;

namespace Signet.Audit;

/// <summary>Streams records from a log, oldest first, in bounded memory.</summary>
public static class AuditQuery
{
    /// <summary>
    /// Yields the records that match <paramref name="filter"/>, each with its <see cref="AuditEntry.CallReceiptId"/>.
    /// Lines that are not records are passed to <paramref name="onSkipped"/> and not yielded.
    /// </summary>
    public static IEnumerable<AuditEntry> Read(string auditDirectory, AuditQueryFilter? filter = null, Action<AuditSkippedLine>? onSkipped = null)
    {
        filter ??= new AuditQueryFilter();
        foreach (var entry in ReadAll(auditDirectory, onSkipped))
        {
            if (Matches(entry, filter))
            {
                yield return entry;
            }
        }
    }

    /// <summary>
    /// Yields one <see cref="AuditCall"/> per tool call, in the order of each call's first record, with the response
    /// receipt and co-signature that belong to its request receipt. The filter applies to the call: its tool, any of
    /// its signers, and its request time.
    /// </summary>
    /// <remarks>
    /// A v3 co-signature names its request (it embeds the agent receipt, id included). A v2 response does not: it is
    /// paired with the unanswered request (one with a <c>call_id</c>, as every recorded call has) of the same signer
    /// key and the same action (tool, arguments hash, target, transport, session, call id, trace and parent ids: the
    /// recorder copies the request's action into the response) whose <c>ts</c> is closest to the response's
    /// <c>ts_request</c>, within 60 s (the recorder takes <c>ts_request</c> just before it signs the request). A
    /// request waits for its response for <see cref="PairingWindow"/> records; memory is bounded by that window.
    /// </remarks>
    public static IEnumerable<AuditCall> ReadCalls(string auditDirectory, AuditQueryFilter? filter = null, Action<AuditSkippedLine>? onSkipped = null)
    {
        filter ??= new AuditQueryFilter();
        var queue = new Queue<CallBuilder>();
        var byRequest = new Dictionary<string, CallBuilder>(StringComparer.Ordinal);
        long seq = 0;
        foreach (var entry in ReadAll(auditDirectory, onSkipped))
        {
            seq++;
            var kind = entry.Kind;
            var where = new AuditRecordRef(entry.File, entry.Line, entry.ReceiptId);
            CallBuilder? call = null;
            if (kind is AuditRecordKind.Response or AuditRecordKind.CoSignature && entry.CallReceiptId is { } requestId
                && byRequest.TryGetValue(requestId, out var open)
                && (kind == AuditRecordKind.Response ? open.Response is null : open.CoSignature is null))
            {
                call = open;
            }
            if (call is null)
            {
                call = new CallBuilder(seq);
                queue.Enqueue(call);
                if (kind == AuditRecordKind.Request && entry.ReceiptId is { } id)
                {
                    byRequest[id] = call;
                }
            }
            call.Add(entry, kind, where, seq);

            while (queue.Count > 0 && queue.Peek().IsSettled(seq))
            {
                var done = queue.Dequeue();
                if (done.Request?.ReceiptId is { } doneId && byRequest.TryGetValue(doneId, out var indexed) && indexed == done)
                {
                    byRequest.Remove(doneId);
                }
                if (done.Matches(filter))
                {
                    yield return done.Build();
                }
            }
        }
        while (queue.Count > 0)
        {
            var done = queue.Dequeue();
            if (done.Matches(filter))
            {
                yield return done.Build();
            }
        }
    }

    /// <summary>How many records a request waits for its response receipt before it is listed without one.</summary>
    public const int PairingWindow = AuditCallMatcher.Window;

    private static IEnumerable<AuditEntry> ReadAll(string auditDirectory, Action<AuditSkippedLine>? onSkipped)
    {
        var directory = Path.GetFullPath(auditDirectory);
        if (!Directory.Exists(directory))
        {
            yield break;
        }
        var matcher = new AuditCallMatcher();
        foreach (var file in AuditRecordFormat.ChainFiles(directory))
        {
            using var reader = new AuditLineReader(file);
            while (reader.TryRead(out var line))
            {
                if (line.Bytes.AsSpan().IndexOfAnyExcept(" \t\r"u8) < 0)
                {
                    continue;
                }
                var record = AuditRecordFormat.TryParse(line.Bytes, out var error, out _);
                if (record is null)
                {
                    onSkipped?.Invoke(new AuditSkippedLine(file, line.Number, error ?? "not a record"));
                    continue;
                }
                yield return new AuditEntry(file, line.Number, record.Receipt, record.PrevHash, record.RecordHash)
                {
                    CallReceiptId = matcher.Observe(record.Receipt),
                };
            }
        }
    }

    private static bool Matches(AuditEntry entry, AuditQueryFilter filter)
    {
        if (filter.Tool is { } tool && !string.Equals(entry.Tool, tool, StringComparison.Ordinal))
        {
            return false;
        }
        if (filter.Signer is { } signer && !ReceiptFields.Signers(entry.Receipt).Contains(signer, StringComparer.Ordinal))
        {
            return false;
        }
        if (filter.Since is not null || filter.Until is not null)
        {
            if (!DateTimeOffset.TryParse(entry.Timestamp, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var ts))
            {
                return false;
            }
            if (ts < filter.Since || ts >= filter.Until)
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>The records of one call being gathered by <see cref="AuditQuery.ReadCalls"/>.</summary>
internal sealed class CallBuilder(long firstSeq)
{
    private readonly long _firstSeq = firstSeq;

    /// <summary>After a response, how many records a co-signature may still come in (the recorder writes it right after).</summary>
    private const int CoSignatureWait = 256;

    private readonly HashSet<string> _signers = new(StringComparer.Ordinal);
    private long _lastSeq = firstSeq;
    private bool _awaitsResponse;
    private string? _requestTs, _responseTs, _tool, _signerName, _target, _responseOutcome, _coSignatureOutcome;

    public AuditRecordRef? Request { get; private set; }

    public AuditRecordRef? Response { get; private set; }

    public AuditRecordRef? CoSignature { get; private set; }

    private AuditRecordRef? Other { get; set; }

    public void Add(AuditEntry entry, AuditRecordKind kind, AuditRecordRef where, long seq)
    {
        _lastSeq = seq;
        switch (kind)
        {
            case AuditRecordKind.Request:
                Request = where;
                _requestTs = entry.RequestTimestamp;
                _awaitsResponse = CallFields.Str(entry.Receipt["action"]?["call_id"]) is not null;
                break;
            case AuditRecordKind.Response:
                Response = where;
                _requestTs ??= entry.RequestTimestamp;
                _responseTs = CallFields.Str(entry.Receipt["ts_response"]);
                _responseOutcome = entry.Outcome;
                break;
            case AuditRecordKind.CoSignature:
                CoSignature = where;
                _requestTs ??= entry.RequestTimestamp;
                _responseTs ??= CallFields.Str(entry.Receipt["ts_response"]);
                _coSignatureOutcome = entry.Outcome;
                break;
            default:
                Other = where;
                _requestTs ??= entry.Timestamp;
                break;
        }
        _tool ??= entry.Tool;
        _signerName ??= entry.SignerName;
        _target ??= entry.Target;
        foreach (var signer in ReceiptFields.Signers(entry.Receipt))
        {
            _signers.Add(signer);
        }
    }

    /// <summary>True when nothing more can join this call within the windows, so it can be listed.</summary>
    public bool IsSettled(long seq) =>
        Request is null
        || !_awaitsResponse
        || CoSignature is not null
        || (Response is not null && seq - _lastSeq >= CoSignatureWait)
        || seq - _firstSeq >= AuditCallMatcher.Window;

    public bool Matches(AuditQueryFilter filter)
    {
        if (filter.Tool is { } tool && !string.Equals(_tool, tool, StringComparison.Ordinal))
        {
            return false;
        }
        if (filter.Signer is { } signer && !_signers.Contains(signer))
        {
            return false;
        }
        if (filter.Since is not null || filter.Until is not null)
        {
            if (!DateTimeOffset.TryParse(_requestTs, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var ts))
            {
                return false;
            }
            if (ts < filter.Since || ts >= filter.Until)
            {
                return false;
            }
        }
        return true;
    }

    public AuditCall Build() => new()
    {
        ReceiptId = (Request ?? Response ?? CoSignature ?? Other)?.ReceiptId,
        RequestTimestamp = _requestTs,
        ResponseTimestamp = _responseTs,
        Tool = _tool,
        SignerName = _signerName,
        Target = _target,
        Outcome = _responseOutcome ?? _coSignatureOutcome,
        Request = Request,
        Response = Response,
        CoSignature = CoSignature,
        Other = Other,
    };
}

/// <summary>
/// Pairs each v2 response receipt with its v1 request receipt as the log is read in chain order (see
/// <see cref="AuditQuery.ReadCalls"/> for the rule), in memory bounded by <see cref="Window"/>.
/// </summary>
internal sealed class AuditCallMatcher
{
    /// <summary>How many records a request stays open for its response.</summary>
    public const int Window = 100_000;

    private static readonly TimeSpan Tolerance = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, List<Open>> _open = new(StringComparer.Ordinal);
    private readonly Queue<(long Seq, string Key, string Id)> _order = new();
    private long _seq;

    /// <summary>The id of the request receipt <paramref name="receipt"/> belongs to (see <see cref="AuditEntry.CallReceiptId"/>).</summary>
    public string? Observe(JsonObject receipt)
    {
        _seq++;
        while (_order.Count > 0 && _seq - _order.Peek().Seq > Window)
        {
            var (_, oldKey, oldId) = _order.Dequeue();
            Close(oldKey, oldId);
        }
        switch (CallFields.Kind(receipt))
        {
            case AuditRecordKind.Request:
                var id = ReceiptFields.Id(receipt);
                // Only a call's request can be answered: the recorder always sets call_id (signet sign does not).
                if (id is not null && CallFields.Str(receipt["action"]?["call_id"]) is not null && Key(receipt) is { } key)
                {
                    if (!_open.TryGetValue(key, out var list))
                    {
                        _open[key] = list = [];
                    }
                    list.Add(new Open(id, CallFields.Time(receipt["ts"])));
                    _order.Enqueue((_seq, key, id));
                }
                return id;
            case AuditRecordKind.Response:
                return Key(receipt) is { } responseKey ? Pair(responseKey, CallFields.Time(receipt["ts_request"])) : null;
            case AuditRecordKind.CoSignature:
                return CallFields.Str(receipt["agent_receipt"]?["id"]);
            default:
                return null;
        }
    }

    private string? Pair(string key, DateTimeOffset? requested)
    {
        if (requested is null || !_open.TryGetValue(key, out var list))
        {
            return null;
        }
        var best = -1;
        var bestGap = TimeSpan.MaxValue;
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Ts is not { } ts)
            {
                continue;
            }
            var gap = (ts - requested.Value).Duration();
            if (gap <= Tolerance && gap < bestGap)
            {
                (best, bestGap) = (i, gap);
            }
        }
        if (best < 0)
        {
            return null;
        }
        var id = list[best].Id;
        Close(key, id);
        return id;
    }

    private void Close(string key, string id)
    {
        if (_open.TryGetValue(key, out var list))
        {
            list.RemoveAll(o => o.Id == id);
            if (list.Count == 0)
            {
                _open.Remove(key);
            }
        }
    }

    /// <summary>The signer key and every field of the action but the arguments themselves (their hash stands for them).</summary>
    private static string? Key(JsonObject receipt)
    {
        if (receipt["action"] is not JsonObject action || CallFields.Str(receipt["signer"]?["pubkey"]) is not { } signer)
        {
            return null;
        }
        var key = new System.Text.StringBuilder(signer);
        foreach (var name in (string[])["tool", "params_hash", "target", "transport", "session", "call_id", "trace_id", "parent_receipt_id"])
        {
            key.Append('\u001f').Append(CallFields.Str(action[name]) ?? "\u0000");
        }
        return key.ToString();
    }

    private readonly record struct Open(string Id, DateTimeOffset? Ts);
}

/// <summary>The fields a call listing reads from a receipt, for every version (FORMAT.md §3).</summary>
internal static class CallFields
{
    public static AuditRecordKind Kind(JsonObject receipt) => ReceiptFields.Version(receipt) switch
    {
        1 or 4 => AuditRecordKind.Request,
        2 => AuditRecordKind.Response,
        3 => AuditRecordKind.CoSignature,
        _ => AuditRecordKind.Other,
    };

    public static string? RequestTimestamp(JsonObject receipt) => ReceiptFields.Version(receipt) switch
    {
        2 => Str(receipt["ts_request"]),
        3 => Str(receipt["agent_receipt"]?["ts"]),
        _ => Str(receipt["ts"]),
    };

    public static string? Outcome(JsonObject receipt) => Str(receipt["response"]?["outcome"]?["status"]);

    public static string? Target(JsonObject receipt) =>
        Str(receipt["action"]?["target"]) ?? Str(receipt["agent_receipt"]?["action"]?["target"]);

    public static DateTimeOffset? Time(JsonNode? node) =>
        DateTimeOffset.TryParse(Str(node), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : null;

    public static string? Str(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : null;
}
