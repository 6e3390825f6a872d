using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Canonicalization;
using Signet.Receipts;

namespace Signet.Mcp.Recording;

/// <summary>
/// The engine every Signet mode shares for <c>tools/call</c>: signs a v1 receipt for each request, stores it before
/// the request goes out and merges it into <c>params._meta</c>; signs a v2 receipt over each response; checks and
/// stores the server's v3 co-signature when one comes back.
/// </summary>
/// <remarks>
/// <para>What is signed: <c>tool</c> = <c>params.name</c>, <c>params</c> = <c>params.arguments</c>, or <c>{}</c> when
/// there are none (the reference Signet does the same; a server comparing the receipt with the call must apply the
/// same rule), plus the target, transport, session, call id and the trace id of a W3C <c>traceparent</c> in
/// <c>_meta</c>.</para>
/// <para>A re-send of a call (the same params sent again, an MRTR retry that carries the previous attempt's
/// <c>_meta</c>, or a request id that is still awaiting its response) gets a new receipt whose
/// <c>parent_receipt_id</c> is the previous attempt's receipt id.</para>
/// <para>Fail-open: when signing fails the call goes out without a receipt (a stale receipt from an earlier attempt
/// is removed); when only storing fails, the call goes out with its signed receipt, so the server can still check
/// it, but the audit log does not hold it. Either way one critical line <c>FAIL-OPEN: tools/call … went through
/// without a durable receipt: …</c> names the call and the cause, and the failure is passed to
/// <see cref="ToolCallRecorderOptions.OnError"/>. A refusal (fail-closed) is logged as one warning naming the cause
/// and thrown as <see cref="ToolCallRefusedException"/>.</para>
/// <para>Thread-safe: calls arrive concurrently. The sink must be thread-safe too.</para>
/// </remarks>
public sealed partial class ToolCallRecorder : IToolCallRecorder
{
    private static readonly IReadOnlyList<string> AllReceiptKeys = [SignetMetaKeys.Receipt, SignetMetaKeys.ReferenceReceipt];

    private readonly ToolCallRecorderOptions _options;
    private readonly ReceiptSigner _signer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<string> _receiptKeys;
    private readonly string _agentKey;
    private readonly ReceiptVerificationOptions _coSignatureOptions;
    private readonly object _pendingLock = new();
    private readonly Dictionary<PendingKey, LinkedListNode<PendingCall>> _pending = [];
    private readonly LinkedList<PendingCall> _pendingOrder = new();
    private int _integrityOnlyReported;

    /// <summary>Creates a recorder.</summary>
    public ToolCallRecorder(ToolCallRecorderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Signer);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Target);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Transport);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPendingCalls, 1);
        _options = options;
        _signer = options.Signer;
        _time = options.Signer.TimeProvider;
        _logger = (ILogger?)options.LoggerFactory?.CreateLogger<ToolCallRecorder>() ?? NullLogger.Instance;
        _receiptKeys = SignetMetaKeys.ReceiptKeys(options.MetaKeyMode);
        _agentKey = options.Signer.PublicKey.Text;
        _coSignatureOptions = new ReceiptVerificationOptions
        {
            TrustedKeys = options.TrustedServerKeys,
            TrustedAgentKeys = [options.Signer.PublicKey],
            TimeProvider = _time,
        };
    }

    /// <summary>The settings this recorder runs with.</summary>
    public ToolCallRecorderOptions Options => _options;

    /// <summary>How many calls are awaiting their response.</summary>
    public int PendingCount
    {
        get
        {
            lock (_pendingLock)
            {
                return _pending.Count;
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask OnRequestAsync(JsonObject callParams, string callId, string? sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callParams);
        ArgumentException.ThrowIfNullOrEmpty(callId);

        var tool = ToolCallOutcome.Text(callParams["name"]) is { Length: > 0 } name ? name : "unknown";
        var key = new PendingKey(sessionId, callId);
        if (callParams["_meta"] is { } metaNode && metaNode is not JsonObject)
        {
            var refuseMeta = _options.FailureMode == RecordingFailureMode.FailClosed;
            Fail(RecordingStage.SignRequest, key, tool, null,
                refuseMeta
                    ? $"Signet refused tools/call \"{tool}\" ({callId}): params._meta is a {metaNode.GetValueKind()}, not an object, so the receipt cannot be attached. Nothing was sent. Send _meta as a JSON object."
                    : $"params._meta is a {metaNode.GetValueKind()}, not an object, so no receipt could be attached; the call was sent unsigned (FailOpen).",
                refuse: refuseMeta);
            return;
        }
        var meta = callParams["_meta"] as JsonObject;

        var parent = PreviousReceiptId(meta);
        if (parent is null)
        {
            lock (_pendingLock)
            {
                if (_pending.TryGetValue(key, out var earlier))
                {
                    parent = earlier.Value.Receipt.Id;
                }
            }
        }

        var action = Action(tool, callParams, callId, sessionId) with { ParentReceiptId = parent };

        var requestTime = _time.GetUtcNow();
        Receipt receipt;
        try
        {
            receipt = _signer.SignRequest(action);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var hint = e is CanonicalizationException
                ? "JSON numbers that are integers of magnitude 2^53 or more have no single canonical form: send them as strings, or set FailureMode to FailOpen to send such calls unsigned."
                : "Set FailureMode to FailOpen to send calls unsigned when signing fails.";
            var refuseSign = _options.FailureMode == RecordingFailureMode.FailClosed;
            Fail(RecordingStage.SignRequest, key, tool, e,
                refuseSign
                    ? $"Signet refused tools/call \"{tool}\" ({callId}): its receipt could not be signed: {Sentences.Clause(e.Message)}. Nothing was sent. {hint}"
                    : $"its receipt could not be signed: {Sentences.Clause(e.Message)}; the call was sent unsigned (FailOpen).",
                refuse: refuseSign);
            if (meta is not null)
            {
                // Fail-open: an earlier attempt's receipt must not travel as if it were this call's.
                foreach (var k in _receiptKeys)
                {
                    meta.Remove(k);
                }
            }
            return;
        }

        var stored = await StoreAsync(receipt, RecordedReceiptKind.Request, key, tool,
            $"Signet refused tools/call \"{tool}\" ({callId}): its receipt could not be written to the audit log",
            "Nothing was sent. Check the audit log's disk and permissions, or set FailureMode to FailOpen to forward calls whose receipt could not be stored.",
            cancellationToken).ConfigureAwait(false);

        Merge(callParams, receipt);
        // The v2 receipt signs the same action, taken from this receipt: the signed copy of the arguments, not the live node.
        Track(key, new PendingCall(tool, receipt, requestTime));
        LogRequestSigned(_logger, callId, tool, receipt.Id, Storage(stored, RecordedReceiptKind.Request));
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            LogReceiptPayload(_logger, receipt.ToJsonString());
        }
        Notify(new RecordedReceipt(receipt, RecordedReceiptKind.Request, callId, sessionId, IsAnchored: true, IsStored: stored));
    }

    /// <inheritdoc/>
    public async ValueTask OnResponseAsync(string callId, string? sessionId, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(callId);
        var key = new PendingKey(sessionId, callId);
        var call = Take(key);
        if (call is null)
        {
            LogUnknownResponse(_logger, callId);
            return;
        }

        var content = ToolCallOutcome.WithoutCoSignature(error ?? result, out var coSignature, out var coSignatureKey);
        var outcome = ToolCallOutcome.Infer(result, error);
        Receipt compound;
        try
        {
            compound = _signer.SignCompound(call.Receipt, content, call.RequestTime, outcome);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var refuseResponse = _options.FailureMode == RecordingFailureMode.FailClosed;
            Fail(RecordingStage.SignResponse, key, call.Tool, e,
                refuseResponse
                    ? $"Signet withheld the response to tools/call \"{call.Tool}\" ({callId}): the tool ran, but the receipt of its response could not be signed: {Sentences.Clause(e.Message)}. Set FailureMode to FailOpen to deliver responses whose receipt cannot be signed."
                    : $"the receipt of its response could not be signed: {Sentences.Clause(e.Message)}; the response was delivered (FailOpen).",
                refuse: refuseResponse);
            return;
        }

        var stored = await StoreAsync(compound, RecordedReceiptKind.Response, key, call.Tool,
            $"Signet withheld the response to tools/call \"{call.Tool}\" ({callId}): the tool ran, but the receipt of its response could not be written to the audit log",
            "Check the audit log's disk and permissions, or set FailureMode to FailOpen to deliver responses whose receipt could not be stored.",
            cancellationToken).ConfigureAwait(false);
        LogResponseSigned(_logger, callId, call.Tool, compound.Id, outcome?.Status ?? "none", Storage(stored, RecordedReceiptKind.Response));
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            LogReceiptPayload(_logger, compound.ToJsonString());
        }
        Notify(new RecordedReceipt(compound, RecordedReceiptKind.Response, callId, sessionId, IsAnchored: true, IsStored: stored));

        if (coSignatureKey is null)
        {
            if (_options.RequireCoSignature && error is null && !(result is JsonObject r && ToolCallOutcome.IsInputRequired(r)))
            {
                RejectCoSignature(key, call.Tool, "the server sent no co-signature");
            }
            return;
        }

        var problem = CheckCoSignature(coSignature, coSignatureKey, call.Receipt, content, _coSignatureOptions, out var verification);
        if (problem is not null)
        {
            RejectCoSignature(key, call.Tool, problem);
            return;
        }

        var bilateral = verification!.Receipt!;
        if (!verification.IsAnchored && Interlocked.Exchange(ref _integrityOnlyReported, 1) == 0)
        {
            LogIntegrityOnly(_logger, bilateral.SignerKey ?? "(none)");
        }
        var storedV3 = await StoreAsync(bilateral, RecordedReceiptKind.CoSignature, key, call.Tool,
            $"Signet withheld the response to tools/call \"{call.Tool}\" ({callId}): the tool ran, but the server's co-signature could not be written to the audit log",
            "Check the audit log's disk and permissions, or set FailureMode to FailOpen.",
            cancellationToken).ConfigureAwait(false);
        LogCoSignatureAccepted(_logger, callId, bilateral.Id, verification.IsAnchored);
        Notify(new RecordedReceipt(bilateral, RecordedReceiptKind.CoSignature, callId, sessionId, verification.IsAnchored, storedV3));
    }

    /// <summary>What a receipt of this call signs: the tool, its arguments (<c>{}</c> when absent) and where it goes.</summary>
    private ReceiptAction Action(string tool, JsonObject callParams, string? callId, string? sessionId) => new()
    {
        Tool = tool,
        Params = callParams["arguments"] ?? new JsonObject(),
        Target = _options.Target,
        Transport = _options.Transport,
        Session = sessionId,
        CallId = callId,
        TraceId = TraceId(callParams["_meta"] as JsonObject),
    };

    /// <summary>
    /// Records a call that was refused before it could be signed (a <c>tools/call</c> sent as a notification, or one
    /// the bridge could not sign as sent): a v2 receipt over the call as sent, with the JSON-RPC error it would have got
    /// as its response and outcome <c>{status: "rejected", reason}</c>, appended to the audit log (durably). A call that
    /// names no tool (no string <c>name</c>) is not recorded: a receipt would have to invent the tool. Problems are
    /// logged, never thrown.
    /// </summary>
    public async ValueTask OnRefusedAsync(JsonObject callParams, string? callId, string? sessionId, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callParams);
        ArgumentNullException.ThrowIfNull(reason);
        var label = callId ?? "(no id)";
        if (ToolCallOutcome.Text(callParams["name"]) is not { Length: > 0 } tool)
        {
            LogRefusalWithoutTool(_logger, label);
            return;
        }
        try
        {
            var action = Action(tool, callParams, callId, sessionId);
            var refusal = new JsonObject { ["code"] = ToolCallRefusedException.JsonRpcErrorCode, ["message"] = "signet: " + reason };
            var receipt = _signer.SignCompound(action, refusal, _time.GetUtcNow(), new ReceiptOutcome("rejected", Reason: reason));
            if (_options.Sink is { } sink)
            {
                await sink.AppendAsync(receipt, cancellationToken).ConfigureAwait(false);
            }
            LogRefusalRecorded(_logger, label, tool, receipt.Id);
            Notify(new RecordedReceipt(receipt, RecordedReceiptKind.Response, callId ?? "", sessionId, IsAnchored: true, IsStored: _options.Sink is not null));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            LogRefusalNotRecorded(_logger, label, tool, e.Message);
        }
    }

    /// <inheritdoc/>
    public void Forget(string callId, string? sessionId)
    {
        if (Take(new PendingKey(sessionId, callId)) is not null)
        {
            LogForgotten(_logger, callId);
        }
    }

    /// <summary>
    /// Checks a server co-signature: a valid v3 receipt (from a trusted server key when any are given) that embeds
    /// exactly the receipt this call sent and hashes exactly the response received. Null when it passes, else why not.
    /// </summary>
    internal static string? CheckCoSignature(JsonNode? node, string key, Receipt sent, JsonNode? content, ReceiptVerificationOptions options, out ReceiptVerification? verification)
    {
        verification = null;
        if (node is not JsonObject json)
        {
            return $"the co-signature under _meta[\"{key}\"] is not a JSON object";
        }
        // The embedded agent receipt must be canonically the one this call sent (the verifier checks that instead of
        // verifying a signature made here).
        verification = ReceiptVerifier.Verify(json, options with { KnownAgentReceipt = sent });
        if (!verification.IsValid)
        {
            return $"the co-signature is invalid: {verification.Reason}{(verification.Field is null ? "" : $" (field {verification.Field})")}";
        }
        if (verification.Version != 3)
        {
            return $"_meta[\"{key}\"] holds a v{verification.Version} receipt, not a v3 co-signature";
        }
        var expected = JsonCanonicalizer.Sha256(content);
        var signed = ToolCallOutcome.Text((json["response"] as JsonObject)?["content_hash"]);
        if (signed != expected)
        {
            return $"the co-signature's response.content_hash {signed} does not match the response received ({expected})";
        }
        return null;
    }

    private void RejectCoSignature(PendingKey key, string tool, string problem)
    {
        var refuse = _options.RequireCoSignature;
        var message = refuse
            ? $"Signet withheld the response to tools/call \"{tool}\" ({key.CallId}): {problem}, and a valid server co-signature is required (RequireCoSignature)."
            : $"The response to tools/call \"{tool}\" ({key.CallId}) was delivered, but {problem}.";
        Report(new ToolCallRecordingError(RecordingStage.CoSignature, key.CallId, key.SessionId, message, null, refuse));
        LogCoSignatureRejected(_logger, message);
        if (refuse)
        {
            throw new ToolCallRefusedException(message);
        }
    }

    private async ValueTask<bool> StoreAsync(Receipt receipt, RecordedReceiptKind kind, PendingKey key, string tool, string what, string hint, CancellationToken cancellationToken)
    {
        if (_options.Sink is not { } sink)
        {
            return false;
        }
        try
        {
            if (StoresDeferred(kind))
            {
                // The call already ran: its receipt is written now and made durable with the sink's next fsync.
                await sink.AppendDeferredAsync(receipt, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await sink.AppendAsync(receipt, cancellationToken).ConfigureAwait(false);
            }
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            var refuse = _options.FailureMode == RecordingFailureMode.FailClosed;
            Fail(RecordingStage.Store, key, tool, e,
                refuse ? $"{what}: {Sentences.Clause(e.Message)}. {hint}" : $"its {KindName(kind)} receipt {receipt.Id} could not be written to the audit log: {Sentences.Clause(e.Message)}; the traffic went through (FailOpen).",
                refuse);
            return false;
        }
    }

    private static string KindName(RecordedReceiptKind kind) => kind switch
    {
        RecordedReceiptKind.Request => "request",
        RecordedReceiptKind.Response => "response",
        _ => "co-signature",
    };

    private void Fail(RecordingStage stage, PendingKey key, string tool, Exception? exception, string message, bool refuse)
    {
        Report(new ToolCallRecordingError(stage, key.CallId, key.SessionId, message, exception, refuse));
        if (refuse)
        {
            // One line naming the cause; the exception (with its stack) is for the caller, not the operator log.
            LogRefused(_logger, message);
            throw exception is null ? new ToolCallRefusedException(message) : new ToolCallRefusedException(message, exception);
        }
        LogFailedOpen(_logger, key.CallId, tool, message);
    }

    private void Merge(JsonObject callParams, Receipt receipt)
    {
        if (callParams["_meta"] is not JsonObject meta)
        {
            meta = [];
            callParams["_meta"] = meta;
        }
        foreach (var k in _receiptKeys)
        {
            // Setting an existing key keeps its position; other keys (progressToken, traceparent, io.modelcontextprotocol/*) stay.
            meta[k] = receipt.Json.DeepClone();
        }
    }

    /// <summary>The id of a receipt this agent already put in these params (a re-send or an MRTR retry copies them).</summary>
    private string? PreviousReceiptId(JsonObject? meta)
    {
        if (meta is null)
        {
            return null;
        }
        foreach (var k in AllReceiptKeys)
        {
            if (meta[k] is JsonObject previous
                && ToolCallOutcome.Text((previous["signer"] as JsonObject)?["pubkey"]) == _agentKey
                && ToolCallOutcome.Text(previous["id"]) is { } id)
            {
                return id;
            }
        }
        return null;
    }

    /// <summary>The trace id of a W3C <c>traceparent</c> (<c>00-&lt;32 hex&gt;-&lt;16 hex&gt;-&lt;2 hex&gt;</c>), if valid.</summary>
    internal static string? TraceId(JsonObject? meta)
    {
        if (ToolCallOutcome.Text(meta?["traceparent"]) is not { } header)
        {
            return null;
        }
        var match = TraceParentPattern().Match(header);
        if (!match.Success || match.Groups[1].Value == "ff")
        {
            return null;
        }
        var traceId = match.Groups[2].Value;
        return traceId.AsSpan().IndexOfAnyExcept('0') < 0 ? null : traceId;
    }

    [GeneratedRegex("^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex TraceParentPattern();

    private void Track(PendingKey key, PendingCall call)
    {
        PendingCall? dropped = null;
        lock (_pendingLock)
        {
            if (_pending.Remove(key, out var existing))
            {
                _pendingOrder.Remove(existing);
            }
            _pending[key] = _pendingOrder.AddLast(call);
            call.Key = key;
            if (_pending.Count > _options.MaxPendingCalls)
            {
                var oldest = _pendingOrder.First!;
                _pendingOrder.RemoveFirst();
                _pending.Remove(oldest.Value.Key);
                dropped = oldest.Value;
            }
        }
        if (dropped is not null)
        {
            var message = $"More than {_options.MaxPendingCalls} tools/call requests are awaiting responses; the oldest, \"{dropped.Tool}\" ({dropped.Key.CallId}), is no longer tracked and its response will not be recorded. Raise MaxPendingCalls, or make sure cancelled calls are forgotten.";
            Report(new ToolCallRecordingError(RecordingStage.PendingOverflow, dropped.Key.CallId, dropped.Key.SessionId, message, null, false));
            LogPendingDropped(_logger, message);
        }
    }

    private PendingCall? Take(PendingKey key)
    {
        lock (_pendingLock)
        {
            if (!_pending.Remove(key, out var node))
            {
                return null;
            }
            _pendingOrder.Remove(node);
            return node.Value;
        }
    }

    private void Notify(RecordedReceipt recorded)
    {
        if (_options.OnReceipt is not { } callback)
        {
            return;
        }
        try
        {
            callback(recorded);
        }
        catch (Exception e)
        {
            LogCallbackFailed(_logger, e, nameof(ToolCallRecorderOptions.OnReceipt));
        }
    }

    private void Report(ToolCallRecordingError error)
    {
        if (_options.OnError is not { } callback)
        {
            return;
        }
        try
        {
            callback(error);
        }
        catch (Exception e)
        {
            LogCallbackFailed(_logger, e, nameof(ToolCallRecorderOptions.OnError));
        }
    }

    private readonly record struct PendingKey(string? SessionId, string CallId);

    private sealed class PendingCall(string tool, Receipt receipt, DateTimeOffset requestTime)
    {
        public string Tool { get; } = tool;

        public Receipt Receipt { get; } = receipt;

        public DateTimeOffset RequestTime { get; } = requestTime;

        public PendingKey Key { get; set; }
    }

    /// <summary>Whether a receipt of this kind goes to the sink's deferred append: a response's, unless asked to wait for its fsync.</summary>
    private bool StoresDeferred(RecordedReceiptKind kind) => kind != RecordedReceiptKind.Request && !_options.SyncResponseReceipts;

    /// <summary>How a receipt was stored, for the debug log: which of the sink's two appends took it, or that none did.</summary>
    private string Storage(bool stored, RecordedReceiptKind kind) =>
        !stored ? "not stored"
        : StoresDeferred(kind) ? "appended deferred (written now, fsynced with the log's next fsync)"
        : "appended (fsynced first in a durable log)";

    [LoggerMessage(Level = LogLevel.Debug, Message = "Signed tools/call {CallId} ({Tool}): request receipt {ReceiptId}, {Storage}")]
    private static partial void LogRequestSigned(ILogger logger, string callId, string tool, string receiptId, string storage);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Signed the response to tools/call {CallId} ({Tool}): receipt {ReceiptId}, outcome {Outcome}, {Storage}")]
    private static partial void LogResponseSigned(ILogger logger, string callId, string tool, string receiptId, string outcome, string storage);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Receipt {Receipt}")]
    private static partial void LogReceiptPayload(ILogger logger, string receipt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Response to {CallId} matches no recorded tools/call; not recorded")]
    private static partial void LogUnknownResponse(ILogger logger, string callId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Forgot tools/call {CallId}: no response will be recorded")]
    private static partial void LogForgotten(ILogger logger, string callId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}")]
    private static partial void LogRefused(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Critical, Message = "FAIL-OPEN: tools/call {CallId} ({Tool}) went through without a durable receipt: {Message}")]
    private static partial void LogFailedOpen(ILogger logger, string callId, string tool, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Recorded the refusal of tools/call {CallId} ({Tool}): receipt {ReceiptId}")]
    private static partial void LogRefusalRecorded(ILogger logger, string callId, string tool, string receiptId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The refusal of tools/call {CallId} is not recorded: the call names no tool")]
    private static partial void LogRefusalWithoutTool(ILogger logger, string callId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The refusal of tools/call {CallId} ({Tool}) could not be recorded: {Reason}")]
    private static partial void LogRefusalNotRecorded(ILogger logger, string callId, string tool, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}")]
    private static partial void LogCoSignatureRejected(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Accepted the server's co-signature for {CallId}: receipt {ReceiptId}, server key trusted: {Anchored}")]
    private static partial void LogCoSignatureAccepted(ILogger logger, string callId, string receiptId, bool anchored);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Server co-signatures are checked for integrity only: no trusted server keys are configured, so {ServerKey} is accepted as it names itself. Configure TrustedServerKeys to anchor them.")]
    private static partial void LogIntegrityOnly(ILogger logger, string serverKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}")]
    private static partial void LogPendingDropped(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Callback} callback threw; recording continues")]
    private static partial void LogCallbackFailed(ILogger logger, Exception exception, string callback);
}
