using System.Globalization;
using System.Text.Json.Nodes;

namespace Signet.Audit;

/// <summary>
/// Which records <see cref="AuditQuery.Read"/> returns (or calls <see cref="AuditQuery.ReadCalls"/> returns). Every set
/// criterion must match.
/// </summary>
public sealed record AuditQueryFilter
{
    /// <summary>Only receipts whose timestamp (v1 <c>ts</c>, v2 <c>ts_request</c>, v3 <c>ts_response</c>) is at or after this.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only receipts whose timestamp is before this.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Only receipts for this tool (exact match; v3: the agent receipt's tool).</summary>
    public string? Tool { get; init; }

    /// <summary>Only receipts signed by this signer: a name or an <c>ed25519:</c> public key (agent or v3 server).</summary>
    public string? Signer { get; init; }
}

/// <summary>One record read from the log.</summary>
/// <param name="File">The day file (full path).</param>
/// <param name="Line">One-based line number.</param>
/// <param name="Receipt">The receipt as stored.</param>
/// <param name="PrevHash">The record's <c>prev_hash</c>.</param>
/// <param name="RecordHash">The record's <c>record_hash</c> (as stored; <see cref="AuditVerifier"/> checks it).</param>
public sealed record AuditEntry(string File, long Line, JsonObject Receipt, string PrevHash, string RecordHash)
{
    /// <summary>The receipt's timestamp text, by version.</summary>
    public string? Timestamp => ReceiptFields.Timestamp(Receipt);

    /// <summary>The tool name.</summary>
    public string? Tool => ReceiptFields.Tool(Receipt);

    /// <summary>The signer's name (the agent's for v3).</summary>
    public string? SignerName => ReceiptFields.SignerName(Receipt);

    /// <summary>The receipt version, when it has an integer <c>v</c>.</summary>
    public int? Version => ReceiptFields.Version(Receipt);

    /// <summary>The receipt id.</summary>
    public string? ReceiptId => ReceiptFields.Id(Receipt);

    /// <summary>What the record is in its call: the request (v1, v4), the response (v2), the server's co-signature (v3).</summary>
    public AuditRecordKind Kind => CallFields.Kind(Receipt);

    /// <summary>When the call was requested: v1/v4 <c>ts</c>, v2 <c>ts_request</c>, v3 the agent receipt's <c>ts</c>.</summary>
    public string? RequestTimestamp => CallFields.RequestTimestamp(Receipt);

    /// <summary>The signed outcome status of a response (v2) or co-signature (v3): <c>executed</c>, <c>failed</c>, …; else null.</summary>
    public string? Outcome => CallFields.Outcome(Receipt);

    /// <summary>The tool server the call went to (<c>action.target</c>; v3: the agent receipt's).</summary>
    public string? Target => CallFields.Target(Receipt);

    /// <summary>
    /// The id of the request receipt of the call this record belongs to: its own id for a request; for a v2 response
    /// the request it was paired with (see <see cref="AuditQuery.ReadCalls"/>), or null when none was found; for a v3
    /// co-signature the id of the agent receipt it embeds.
    /// </summary>
    public string? CallReceiptId { get; init; }
}

/// <summary>What a record is in the story of one tool call.</summary>
public enum AuditRecordKind
{
    /// <summary>A request receipt (v1, or v4 with a delegation): signed before the call was forwarded.</summary>
    Request,

    /// <summary>A response receipt (v2): the same action with the hash and outcome of the response.</summary>
    Response,

    /// <summary>A server's co-signature (v3) of the agent's request receipt and the response.</summary>
    CoSignature,

    /// <summary>Anything else (a receipt of another version, a policy record).</summary>
    Other,
}

/// <summary>Where one record of a call is.</summary>
/// <param name="File">The day file (full path).</param>
/// <param name="Line">One-based line number.</param>
/// <param name="ReceiptId">The receipt's id.</param>
public sealed record AuditRecordRef(string File, long Line, string? ReceiptId);

/// <summary>
/// One tool call as the log tells it: its request receipt with the response receipt and co-signature that belong to
/// it (any of them may be missing). Holds the fields a listing shows, not the receipts.
/// </summary>
public sealed record AuditCall
{
    /// <summary>The request receipt's id (or, for a response or co-signature without its request, that record's id).</summary>
    public string? ReceiptId { get; init; }

    /// <summary>When the call was requested (the request receipt's <c>ts</c>, else the response's <c>ts_request</c>).</summary>
    public string? RequestTimestamp { get; init; }

    /// <summary>When the response was signed (<c>ts_response</c>), when there is a response receipt.</summary>
    public string? ResponseTimestamp { get; init; }

    /// <summary>The tool.</summary>
    public string? Tool { get; init; }

    /// <summary>The agent's signer name.</summary>
    public string? SignerName { get; init; }

    /// <summary>The tool server (<c>action.target</c>).</summary>
    public string? Target { get; init; }

    /// <summary>The signed outcome status (<c>executed</c>, <c>failed</c>, …) of the response, else of the co-signature; null when neither states one.</summary>
    public string? Outcome { get; init; }

    /// <summary>The request receipt (v1/v4), when the log holds it.</summary>
    public AuditRecordRef? Request { get; init; }

    /// <summary>The response receipt (v2), when the log holds one paired with the request.</summary>
    public AuditRecordRef? Response { get; init; }

    /// <summary>The server's co-signature (v3), when the log holds one.</summary>
    public AuditRecordRef? CoSignature { get; init; }

    /// <summary>A record that is not part of a call (another receipt version, a policy record).</summary>
    public AuditRecordRef? Other { get; init; }
}

/// <summary>A line the query could not read as a record (verification reports it as a break).</summary>
/// <param name="File">The day file.</param>
/// <param name="Line">One-based line number.</param>
/// <param name="Reason">Why.</param>
public sealed record AuditSkippedLine(string File, long Line, string Reason);

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
