using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Diagnostics;

namespace Signet.Mcp.Recording;

/// <summary>
/// The life of one connection's <c>tools/call</c> requests, the same in every mode: the library transport, the stdio
/// proxy, <c>proxy --url</c> and each bridge session only convert their wire format to these calls.
/// </summary>
/// <remarks>
/// <para>It owns what happens to a call: whether it can be signed (see <see cref="ToolCallMessage"/>), its call id
/// (<see cref="Mcp.CallId"/>), the decision to refuse it or, under <see cref="RecordingFailureMode.FailOpen"/>, to let
/// it through with one critical <c>FAIL-OPEN</c> line, the refusal's JSON-RPC error (<see cref="Error(string)"/>), the
/// map of calls awaiting their response (matched by exact call id, else by numeric value, as servers echo ids),
/// cancellation (<c>notifications/cancelled</c> forgets the call), and the calls still pending when the connection ends.</para>
/// <para>A refused call that names a tool is recorded by the recorder as a signed receipt with outcome
/// <c>rejected</c>, when the refusal is the session's own (a call that cannot be signed as sent).</para>
/// <para>Thread-safe: requests and responses are handled concurrently.</para>
/// </remarks>
public sealed partial class ToolCallSession
{
    private readonly IToolCallRecorder _recorder;
    private readonly SignetOptions _options;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<string> _receiptKeys;
    private readonly PendingCalls<PendingToolCall> _pending = new();

    /// <summary>Starts a connection's session over <paramref name="recorder"/>, with its <see cref="IToolCallRecorder.Options"/>.</summary>
    /// <param name="recorder">Signs and records.</param>
    /// <param name="sessionId">The MCP session, when there is one (signed into the receipts).</param>
    /// <param name="logger">The operator log (default: from the options' logger factory).</param>
    public ToolCallSession(IToolCallRecorder recorder, string? sessionId = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        _recorder = recorder;
        _options = recorder.Options ?? throw new ArgumentException("the recorder has no options", nameof(recorder));
        _logger = logger ?? (ILogger?)_options.LoggerFactory?.CreateLogger<ToolCallSession>() ?? NullLogger.Instance;
        _receiptKeys = SignetMetaKeys.ReceiptKeys(_options.MetaKeyMode);
        SessionId = sessionId;
    }

    /// <summary>The MCP session, when there is one.</summary>
    public string? SessionId { get; }

    /// <summary>Whether calls whose receipt cannot be made go through (<see cref="RecordingFailureMode.FailOpen"/>).</summary>
    public bool FailsOpen => _options.FailureMode == RecordingFailureMode.FailOpen;

    /// <summary>How many signed calls await their response.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Whether any signed call awaits its response (read without a lock: adapters ask on every message).</summary>
    public bool HasPending => !_pending.IsEmpty;

    /// <summary>The JSON-RPC error object that answers a call Signet refused or could not complete: code <see cref="ToolCallRefusedException.JsonRpcErrorCode"/>, message <see cref="ErrorMessage(string)"/>.</summary>
    public static JsonObject Error(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return new JsonObject
        {
            ["code"] = ToolCallRefusedException.JsonRpcErrorCode,
            ["message"] = ErrorMessage(reason),
        };
    }

    /// <summary>The message of <see cref="Error(string)"/>: the reason, marked as Signet's unless it already names Signet.</summary>
    public static string ErrorMessage(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return reason.StartsWith("Signet ", StringComparison.Ordinal) ? reason : "signet: " + reason;
    }

    /// <summary>Looks at a JSON-RPC message whose <c>method</c> is <c>tools/call</c>; see <see cref="StartAsync(bool, JsonNode?, bool, JsonNode?, CancellationToken)"/>.</summary>
    public ValueTask<ToolCallStart> StartAsync(JsonObject message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var hasId = message.TryGetPropertyValue("id", out var id);
        var hasParams = message.TryGetPropertyValue("params", out var parameters);
        return StartAsync(hasId, id, hasParams, parameters, cancellationToken);
    }

    /// <summary>
    /// Looks at a <c>tools/call</c> request before it goes out: signs it and makes its receipt durable (the params'
    /// <c>_meta</c> gains the receipt), or decides that it is refused, dropped or, under fail-open, sent unsigned. Logs
    /// the refusal or the <c>FAIL-OPEN</c> line once. Never throws but for cancellation.
    /// </summary>
    /// <param name="hasId">Whether the message has an <c>id</c> member.</param>
    /// <param name="id">The id as sent.</param>
    /// <param name="hasParams">Whether the message has a <c>params</c> member.</param>
    /// <param name="parameters">The params as sent; an object that can be signed gains the receipt.</param>
    /// <param name="cancellationToken">Stops waiting for the receipt's append.</param>
    public async ValueTask<ToolCallStart> StartAsync(bool hasId, JsonNode? id, bool hasParams, JsonNode? parameters, CancellationToken cancellationToken = default)
    {
        var callId = hasId ? Mcp.CallId.From(id) : null;
        var label = Label(hasId, id, callId);
        if (ToolCallMessage.Problem(hasId, id, hasParams, parameters) is { } problem)
        {
            return await StartUnsignableAsync(hasId, id, label, "the tools/call cannot be signed: " + problem, parameters as JsonObject, cancellationToken).ConfigureAwait(false);
        }

        var parametersObject = (JsonObject)parameters!;
        var parent = _pending.TryGet(callId!, out var earlier) ? earlier.Recorded.Receipt.Id : null;
        try
        {
            var recorded = await _recorder.RecordRequestAsync(parametersObject, callId!, SessionId, parent, cancellationToken).ConfigureAwait(false);
            return new ToolCallStart(ToolCallVerdict.Forward, label, callId, id!.DeepClone(), null, recorded);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            var failure = e as ToolCallRecordingException;
            var stage = failure?.Stage ?? RecordingStage.SignRequest;
            // What the caller's exception chain carries: the failure under a recording exception, else the exception itself.
            var underlying = failure is null ? e : failure.InnerException;
            if (!FailsOpen)
            {
                var reason = failure?.Message ?? (e is ToolCallRefusedException ? e.Message
                    : "the call could not be signed and logged: " + Sentences.Clause(e.Message));
                CountRefusal(stage);
                Report(stage, callId!, reason, e, refused: true);
                LogCallRefused(_logger, label, reason);
                return new ToolCallStart(ToolCallVerdict.Refuse, label, callId, id!.DeepClone(), reason, null, underlying);
            }

            var cause = failure?.Cause ?? Sentences.Clause(e.Message);
            Report(stage, callId!, $"{cause}; the call went through (FailOpen)", e, refused: false);
            LogForwardedUnsigned(_logger, WithTool(label, parametersObject), cause);
            if (failure?.Call is { } signed)
            {
                // Signed but not stored: it goes out signed, so its server can still check it, and its response is recorded.
                ToolCallRecorder.AttachReceipt(parametersObject, signed.Receipt, _receiptKeys);
                Notify(new RecordedReceipt(signed.Receipt, RecordedReceiptKind.Request, signed.CallId, SessionId, IsAnchored: true, IsStored: false));
                return new ToolCallStart(ToolCallVerdict.Forward, label, callId, id!.DeepClone(), cause, signed, underlying);
            }
            var stale = false;
            if (parametersObject["_meta"] is JsonObject meta)
            {
                // An earlier attempt's receipt must not travel as if it were this call's.
                foreach (var k in _receiptKeys)
                {
                    stale |= meta.Remove(k);
                }
            }
            // Without that receipt the call differs from the bytes that came: it is sent as it now is.
            return new ToolCallStart(stale ? ToolCallVerdict.Forward : ToolCallVerdict.ForwardAsSent, label, callId, id!.DeepClone(), cause, null, underlying);
        }
    }

    /// <summary>
    /// Decides for a <c>tools/call</c> that cannot be signed as sent (see <see cref="ToolCallMessage.Problem(JsonObject)"/>,
    /// or the adapter's own stricter reading): under fail-open it goes as it came; otherwise it is refused, or dropped
    /// when it has no id, and its refusal is recorded when its params name a tool. Logs once.
    /// </summary>
    /// <param name="hasId">Whether the call has an id the adapter can answer.</param>
    /// <param name="id">The id as sent, when it could be read.</param>
    /// <param name="label">The call as the operator log names it.</param>
    /// <param name="reason">Why it cannot be signed.</param>
    /// <param name="callParams">Its params, when they are an object (recorded with the refusal when they name a tool).</param>
    /// <param name="cancellationToken">Stops waiting for the refusal's record.</param>
    public async ValueTask<ToolCallStart> StartUnsignableAsync(bool hasId, JsonNode? id, string label, string reason, JsonObject? callParams,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(reason);
        var callId = hasId ? Mcp.CallId.From(id) : null;
        if (FailsOpen)
        {
            LogForwardedUnsigned(_logger, WithTool(label, callParams), reason);
            return new ToolCallStart(ToolCallVerdict.ForwardAsSent, label, callId, id?.DeepClone(), reason, null);
        }
        if (callParams is not null && ToolCallMessage.ParamsProblem(callParams) is null)
        {
            await RecordRefusalAsync(callParams, callId, label, reason, cancellationToken).ConfigureAwait(false);
        }
        return Refusal(hasId, id, label, callId, reason);
    }

    /// <summary>
    /// Decides for a <c>tools/call</c> the adapter found but cannot read as strict JSON (not valid UTF-8, duplicate keys,
    /// an oversized line): refused (or dropped without an id), or, under fail-open, sent as it came. Logs once.
    /// </summary>
    /// <param name="hasId">Whether the call has an id the adapter can answer.</param>
    /// <param name="label">The call as the operator log names it (its raw id).</param>
    /// <param name="reason">Why it cannot be signed.</param>
    public ToolCallStart StartUnreadable(bool hasId, string label, string reason)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(reason);
        if (FailsOpen)
        {
            LogForwardedUnsigned(_logger, label, reason);
            return new ToolCallStart(ToolCallVerdict.ForwardAsSent, label, null, null, reason, null);
        }
        return Refusal(hasId, null, label, null, reason);
    }

    /// <summary>
    /// Refuses a <c>tools/call</c> that no failure mode can let through (over HTTP a line that cannot be read cannot be
    /// posted at all): refused, or dropped without an id. Logs once, as a refusal, never as a <c>FAIL-OPEN</c> pass.
    /// </summary>
    /// <param name="hasId">Whether the call has an id the adapter can answer.</param>
    /// <param name="label">The call as the operator log names it.</param>
    /// <param name="reason">Why it cannot be sent.</param>
    public ToolCallStart Refuse(bool hasId, string label, string reason)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(reason);
        return Refusal(hasId, null, label, null, reason);
    }

    /// <summary>
    /// Records that a signed call went out (<see cref="ToolCallVerdict.Forward"/>): its response will be matched and
    /// recorded. Call it before the call is sent, so a fast response finds it. Beyond
    /// <see cref="SignetOptions.MaxPendingCalls"/> the oldest pending call is dropped and reported.
    /// </summary>
    /// <param name="start">The call.</param>
    /// <param name="state">What the adapter keeps with it (e.g. the id in its own type).</param>
    /// <returns>The pending call, or null when the start carried no signed request.</returns>
    public PendingToolCall? Forwarded(ToolCallStart start, object? state = null)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (start.Recorded is not { } recorded)
        {
            return null;
        }
        var call = new PendingToolCall(recorded, start.Id, state)
        {
            Span = ToolCallRecorder.StartSpan("signet.forward", recorded.TraceParent, recorded.TraceState, recorded.Tool, recorded.CallId,
                RecordedReceiptKind.Request, ActivityKind.Client),
        };
        call.Span?.SetTag(ToolCallRecorder.ReceiptIdTag, recorded.Receipt.Id);
        _pending.Add(recorded.CallId, call);
        while (_pending.Count > _options.MaxPendingCalls && _pending.TryTakeOldest(out var droppedId, out var dropped))
        {
            var message = $"More than {_options.MaxPendingCalls} tools/call requests are awaiting responses; the oldest, \"{dropped.Tool}\" ({droppedId}), is no longer tracked and its response will not be recorded. Raise MaxPendingCalls, or make sure cancelled calls are forgotten.";
            dropped.EndSpan("no longer tracked: too many calls pending");
            Report(RecordingStage.PendingOverflow, droppedId, message, null, refused: false);
            LogPendingDropped(_logger, message);
        }
        return call;
    }

    /// <summary>
    /// A call that was looked at but never went out (the server's input closed, the send failed, the proxy stopped):
    /// returns the reason to answer the client with, and logs it.
    /// </summary>
    public string Abandon(ToolCallStart start, string cause)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(cause);
        var reason = start.Verdict == ToolCallVerdict.Refuse && start.Reason is { } refusal ? refusal : "the call was not forwarded: " + cause;
        LogPendingFailed(_logger, start.Label, reason);
        return reason;
    }

    /// <summary>
    /// Takes the pending call that a response answers, by the id the response carries (the exact call id first, else
    /// the oldest call with the same numeric value). False when it answers no signed call.
    /// </summary>
    public bool TryTakeResponse(JsonNode? echoedId, out PendingToolCall call)
    {
        if (_pending.IsEmpty || Mcp.CallId.From(echoedId) is not { } echoed)
        {
            call = null!;
            return false;
        }
        return _pending.TryTake(echoed, out _, out call);
    }

    /// <summary>Takes the pending call a response answers, by the call id of the id it carries.</summary>
    public bool TryTakeResponse(string echoedCallId, out PendingToolCall call)
    {
        ArgumentNullException.ThrowIfNull(echoedCallId);
        return _pending.TryTake(echoedCallId, out _, out call);
    }

    /// <summary>
    /// Takes <paramref name="call"/> itself, for an adapter that routes answers by its own map (the bridge routes every
    /// request's answer to the HTTP response that asked). False when it is no longer pending (cancelled, or the session ended).
    /// </summary>
    public bool TryTake(PendingToolCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return _pending.TryRemove(call.CallId, call);
    }

    /// <summary>
    /// Takes the pending call a JSON-RPC message answers (a response or error with the call's id and no method), with
    /// its result and error. False for any other message.
    /// </summary>
    public bool TryTakeResponse(JsonObject message, out PendingToolCall call, out JsonNode? result, out JsonNode? error)
    {
        ArgumentNullException.ThrowIfNull(message);
        result = null;
        error = null;
        if (_pending.IsEmpty || message.ContainsKey("method") || !message.TryGetPropertyValue("id", out var id) || !TryTakeResponse(id, out call))
        {
            call = null!;
            return false;
        }
        message.TryGetPropertyValue("result", out result);
        message.TryGetPropertyValue("error", out error);
        return true;
    }

    /// <summary>
    /// Records the response to a pending call. Returns null when the response is to be delivered (under the call's
    /// <see cref="PendingToolCall.Id"/>), or the reason to answer with instead (see <see cref="Error(string)"/>): a
    /// receipt that could not be made (fail-closed), or a required co-signature that failed (in every mode). Logs once.
    /// </summary>
    public async ValueTask<string?> RecordResponseAsync(PendingToolCall call, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        call.EndSpan(error is null ? null : "the server answered with a JSON-RPC error");
        try
        {
            await _recorder.RecordResponseAsync(call.Recorded, result, error, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            var failure = e as ToolCallRecordingException;
            var stage = failure?.Stage ?? RecordingStage.SignResponse;
            var reason = failure?.Message ?? (e is ToolCallRefusedException ? e.Message
                : $"Signet withheld the response to tools/call \"{call.Tool}\" ({call.CallId}): it could not be recorded: {Sentences.Clause(e.Message)}");
            if (failure?.IsPolicy == true || !FailsOpen)
            {
                CountRefusal(stage);
                Report(stage, call.CallId, reason, e, refused: true);
                LogResponseWithheld(_logger, call.CallId, reason);
                return reason;
            }
            var cause = failure?.Cause ?? Sentences.Clause(e.Message);
            Report(stage, call.CallId, $"{cause}; the response was delivered (FailOpen)", e, refused: false);
            LogDeliveredUnrecorded(_logger, $"{call.CallId} ({call.Tool})", cause);
            return null;
        }
    }

    /// <summary>Forgets the call a <c>notifications/cancelled</c> names: its response, if any comes, is not recorded. False when it names no pending call.</summary>
    public bool Cancel(JsonNode? requestId)
    {
        if (_pending.IsEmpty || Mcp.CallId.From(requestId) is not { } cancelled || !_pending.TryTake(cancelled, out var callId, out var call))
        {
            return false;
        }
        call.EndSpan("cancelled by the client");
        LogForgotten(_logger, callId);
        return true;
    }

    /// <summary>When <paramref name="message"/> is a <c>notifications/cancelled</c>, forgets the call it names. False otherwise.</summary>
    public bool CancelIfCancellation(JsonObject message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return !_pending.IsEmpty
            && message["method"] is JsonValue method
            && method.GetValueKind() == JsonValueKind.String
            && method.GetValue<string>() == "notifications/cancelled"
            && message["params"] is JsonObject p
            && Cancel(p["requestId"]);
    }

    /// <summary>
    /// The connection ended: every call still awaiting its response is taken (oldest first) and returned, for the
    /// adapter to answer with <see cref="Error(string)"/> of <paramref name="cause"/> where its client still listens.
    /// </summary>
    public IReadOnlyList<PendingToolCall> End(string cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        var ended = new List<PendingToolCall>();
        foreach (var callId in _pending.CallIds)
        {
            if (_pending.TryRemove(callId, out var call))
            {
                call.EndSpan(cause);
                LogPendingFailed(_logger, callId, cause);
                ended.Add(call);
            }
        }
        return ended;
    }

    private ToolCallStart Refusal(bool hasId, JsonNode? id, string label, string? callId, string reason)
    {
        SignetTelemetry.CallsRefused.Add(1, new KeyValuePair<string, object?>(RefusalStageTag, "unsignable"));
        if (!hasId)
        {
            LogNotificationCallDropped(_logger, reason);
            return new ToolCallStart(ToolCallVerdict.Drop, label, null, null, reason, null);
        }
        LogCallRefused(_logger, label, reason);
        return new ToolCallStart(ToolCallVerdict.Refuse, label, callId, id?.DeepClone(), reason, null);
    }

    private async ValueTask RecordRefusalAsync(JsonObject callParams, string? callId, string label, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await _recorder.RecordRefusalAsync(callParams, callId, SessionId, reason, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            LogRefusalNotRecorded(_logger, label, e.Message);
        }
    }

    /// <summary>The call and, when its params name one, its tool: <c>n:7 (echo)</c>.</summary>
    private static string WithTool(string label, JsonObject? callParams) =>
        ToolCallOutcome.Text(callParams?["name"]) is { Length: > 0 } tool ? $"{label} ({tool})" : label;

    private void Notify(RecordedReceipt recorded) => Callbacks.Invoke(_options.OnReceipt, recorded, _logger, nameof(SignetOptions.OnReceipt));

    /// <summary>The call as the operator log names it (an id that is not UTF-8 shown with U+FFFD).</summary>
    private static string Label(bool hasId, JsonNode? id, string? callId)
    {
        if (callId is not null)
        {
            return callId;
        }
        if (!hasId)
        {
            return "(no id)";
        }
        try
        {
            return id?.ToJsonString() ?? "(null)";
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            return "(unreadable id)";
        }
    }

    internal const string RefusalStageTag = "signet.refusal.stage";

    private static void CountRefusal(RecordingStage stage) =>
        SignetTelemetry.CallsRefused.Add(1, new KeyValuePair<string, object?>(RefusalStageTag, stage switch
        {
            RecordingStage.SignRequest => "sign_request",
            RecordingStage.Store => "store",
            RecordingStage.SignResponse => "sign_response",
            RecordingStage.CoSignature => "co_signature",
            _ => "pending_overflow",
        }));

    private void Report(RecordingStage stage, string callId, string message, Exception? exception, bool refused) =>
        Callbacks.Invoke(_options.OnError, new ToolCallRecordingError(stage, callId, SessionId, message, exception, refused), _logger, nameof(SignetOptions.OnError));

    [LoggerMessage(1, LogLevel.Warning, "refused tools/call {CallId}: {Cause}")]
    private static partial void LogCallRefused(ILogger logger, string callId, string cause);

    [LoggerMessage(2, LogLevel.Critical, "FAIL-OPEN: tools/call {Call} went through without a durable receipt: {Cause}")]
    private static partial void LogForwardedUnsigned(ILogger logger, string call, string cause);

    [LoggerMessage(3, LogLevel.Error, "response to {CallId} withheld; the client gets an error instead: {Cause}")]
    private static partial void LogResponseWithheld(ILogger logger, string callId, string cause);

    [LoggerMessage(4, LogLevel.Critical, "FAIL-OPEN: the response to tools/call {Call} was delivered without a durable receipt: {Cause}")]
    private static partial void LogDeliveredUnrecorded(ILogger logger, string call, string cause);

    [LoggerMessage(7, LogLevel.Error, "call {CallId} answered with an error: {Cause}")]
    private static partial void LogPendingFailed(ILogger logger, string callId, string cause);

    [LoggerMessage(13, LogLevel.Warning, "dropped a tools/call sent as a notification (no id, so no error can be returned): {Cause}")]
    private static partial void LogNotificationCallDropped(ILogger logger, string cause);

    [LoggerMessage(15, LogLevel.Error, "the refusal of tools/call {CallId} could not be recorded: {Reason}")]
    private static partial void LogRefusalNotRecorded(ILogger logger, string callId, string reason);

    [LoggerMessage(16, LogLevel.Warning, "{Message}")]
    private static partial void LogPendingDropped(ILogger logger, string message);

    [LoggerMessage(17, LogLevel.Debug, "forgot tools/call {CallId} (cancelled): its response will not be recorded")]
    private static partial void LogForgotten(ILogger logger, string callId);
}
