using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Canonicalization;
using Signet.Diagnostics;
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
/// <para>A re-send of a call (an MRTR retry that carries the previous attempt's <c>_meta</c>, or a request id that is
/// still awaiting its response, which the session passes as the parent) gets a new receipt whose
/// <c>parent_receipt_id</c> is the previous attempt's receipt id.</para>
/// <para>It decides nothing about the call and keeps no calls: a receipt that cannot be signed or stored, or a required
/// co-signature that fails, is thrown as <see cref="ToolCallRecordingException"/>, and the connection's
/// <see cref="ToolCallSession"/> refuses the call or, under fail-open, lets it through.</para>
/// <para>Thread-safe: calls arrive concurrently. The sink must be thread-safe too.</para>
/// </remarks>
public sealed partial class ToolCallRecorder : IToolCallRecorder
{
    private static readonly IReadOnlyList<string> AllReceiptKeys = [SignetMetaKeys.Receipt, SignetMetaKeys.ReferenceReceipt];

    private readonly SignetOptions _options;
    private readonly ReceiptSigner _signer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<string> _receiptKeys;
    private readonly string _agentKey;
    private readonly string _target;
    private readonly string _transport;
    private readonly ReceiptVerificationOptions _coSignatureOptions;
    private int _integrityOnlyReported;

    /// <summary>Creates a recorder; <see cref="SignetOptions.Target"/> must be set (the transport defaults to <c>stdio</c>).</summary>
    /// <exception cref="ArgumentException">The settings cannot be used (each problem is named).</exception>
    public ToolCallRecorder(SignetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(requireTarget: true);
        _options = options;
        _signer = options.CreateSigner();
        _time = _signer.TimeProvider;
        _logger = (ILogger?)options.LoggerFactory?.CreateLogger<ToolCallRecorder>() ?? NullLogger.Instance;
        _receiptKeys = SignetMetaKeys.ReceiptKeys(options.MetaKeyMode);
        _agentKey = _signer.PublicKey.Text;
        _target = options.Target!;
        _transport = options.Transport ?? "stdio";
        _coSignatureOptions = new ReceiptVerificationOptions
        {
            TrustedKeys = [.. options.TrustedServerKeys],
            TrustedAgentKeys = [_signer.PublicKey],
            TimeProvider = _time,
        };
    }

    /// <inheritdoc/>
    public SignetOptions Options => _options;

    /// <summary>The signer of the receipts.</summary>
    public ReceiptSigner Signer => _signer;

    /// <summary>Starts the life of one connection's calls over this recorder.</summary>
    /// <param name="sessionId">The MCP session, when there is one (signed into the receipts).</param>
    public ToolCallSession CreateSession(string? sessionId = null) => new(this, sessionId);

    /// <inheritdoc/>
    public async ValueTask<RecordedCall> RecordRequestAsync(JsonObject callParams, string callId, string? sessionId, string? parentReceiptId,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callParams);
        ArgumentException.ThrowIfNullOrEmpty(callId);

        var tool = ToolCallOutcome.Text(callParams["name"]) is { Length: > 0 } name ? name : "unknown";
        if (callParams["_meta"] is { } metaNode && metaNode is not JsonObject)
        {
            var cause = $"params._meta is a {metaNode.GetValueKind()}, not an object, so the receipt cannot be attached";
            throw new ToolCallRecordingException(RecordingStage.SignRequest,
                $"Signet refused tools/call \"{tool}\" ({callId}): {cause}. Nothing was sent. Send _meta as a JSON object.", cause);
        }
        var meta = callParams["_meta"] as JsonObject;
        var parent = PreviousReceiptId(meta) ?? parentReceiptId;
        if (_signer.SignsOutOfProcess)
        {
            // An agent's or a token's signature is a round trip: off the caller's loop (the proxy's reader), so that
            // calls behind this one are read and signed meanwhile instead of queueing behind each round trip.
            await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        }
        var action = Action(tool, callParams, callId, sessionId) with { ParentReceiptId = parent };

        var requestTime = _time.GetUtcNow();
        var traceParent = ToolCallOutcome.Text(meta?["traceparent"]);
        var traceState = ToolCallOutcome.Text(meta?["tracestate"]);
        Receipt receipt;
        using (var signSpan = StartSpan("signet.sign", traceParent, traceState, tool, callId, RecordedReceiptKind.Request))
        {
            try
            {
                receipt = _signer.SignRequest(action);
                signSpan?.SetTag(ReceiptIdTag, receipt.Id);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                signSpan?.SetStatus(ActivityStatusCode.Error, e.Message);
                var hint = e is CanonicalizationException
                    ? "JSON numbers that are integers of magnitude 2^53 or more have no single canonical form: send them as strings, or set FailureMode to FailOpen to send such calls unsigned."
                    : "Set FailureMode to FailOpen to send calls unsigned when signing fails.";
                var cause = $"its receipt could not be signed: {Sentences.Clause(e.Message)}";
                throw new ToolCallRecordingException(RecordingStage.SignRequest,
                    $"Signet refused tools/call \"{tool}\" ({callId}): {cause}. Nothing was sent. {hint}", cause, e);
            }
        }

        var call = new RecordedCall(callId, sessionId, tool, receipt, requestTime) { TraceParent = traceParent, TraceState = traceState };
        var stored = await StoreAsync(receipt, RecordedReceiptKind.Request,
            $"Signet refused tools/call \"{tool}\" ({callId}): its receipt could not be written to the audit log",
            "Nothing was sent. Check the audit log's disk and permissions, or set FailureMode to FailOpen to forward calls whose receipt could not be stored.",
            cancellationToken, call).ConfigureAwait(false);

        AttachReceipt(callParams, receipt, _receiptKeys);
        LogRequestSigned(_logger, callId, tool, receipt.Id, Storage(stored, RecordedReceiptKind.Request));
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            LogReceiptPayload(_logger, receipt.ToJsonString());
        }
        Notify(new RecordedReceipt(receipt, RecordedReceiptKind.Request, callId, sessionId, IsAnchored: true, IsStored: stored));
        // The v2 receipt signs the same action, taken from this receipt: the signed copy of the arguments, not the live node.
        return call;
    }

    /// <inheritdoc/>
    public async ValueTask RecordResponseAsync(RecordedCall call, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        var callId = call.CallId;
        var content = ToolCallOutcome.WithoutCoSignature(error ?? result, out var coSignature, out var coSignatureKey);
        var outcome = ToolCallOutcome.Infer(result, error);
        if (_signer.SignsOutOfProcess)
        {
            await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        }
        Receipt compound;
        using (var signSpan = StartSpan("signet.sign", call.TraceParent, call.TraceState, call.Tool, callId, RecordedReceiptKind.Response))
        {
            try
            {
                compound = _signer.SignCompound(call.Receipt, content, call.RequestTime, outcome);
                signSpan?.SetTag(ReceiptIdTag, compound.Id);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                signSpan?.SetStatus(ActivityStatusCode.Error, e.Message);
                throw ResponseNotSigned(call, e);
            }
        }

        var stored = await StoreAsync(compound, RecordedReceiptKind.Response,
            $"Signet withheld the response to tools/call \"{call.Tool}\" ({callId}): the tool ran, but the receipt of its response could not be written to the audit log",
            "Check the audit log's disk and permissions, or set FailureMode to FailOpen to deliver responses whose receipt could not be stored.",
            cancellationToken, trace: call).ConfigureAwait(false);
        LogResponseSigned(_logger, callId, call.Tool, compound.Id, outcome?.Status ?? "none", Storage(stored, RecordedReceiptKind.Response));
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            LogReceiptPayload(_logger, compound.ToJsonString());
        }
        Notify(new RecordedReceipt(compound, RecordedReceiptKind.Response, callId, call.SessionId, IsAnchored: true, IsStored: stored));

        if (coSignatureKey is null)
        {
            if (_options.RequireCoSignature && error is null && !(result is JsonObject r && ToolCallOutcome.IsInputRequired(r)))
            {
                RejectCoSignature(call, "the server sent no co-signature");
            }
            return;
        }

        var problem = CheckCoSignature(coSignature, coSignatureKey, call.Receipt, content, _coSignatureOptions, out var verification);
        if (problem is not null)
        {
            RejectCoSignature(call, problem);
            return;
        }

        var bilateral = verification!.Receipt!;
        if (!verification.IsAnchored && Interlocked.Exchange(ref _integrityOnlyReported, 1) == 0)
        {
            LogIntegrityOnly(_logger, bilateral.SignerKey ?? "(none)");
        }
        var storedV3 = await StoreAsync(bilateral, RecordedReceiptKind.CoSignature,
            $"Signet withheld the response to tools/call \"{call.Tool}\" ({callId}): the tool ran, but the server's co-signature could not be written to the audit log",
            "Check the audit log's disk and permissions, or set FailureMode to FailOpen.",
            cancellationToken).ConfigureAwait(false);
        LogCoSignatureAccepted(_logger, callId, bilateral.Id, verification.IsAnchored);
        Notify(new RecordedReceipt(bilateral, RecordedReceiptKind.CoSignature, callId, call.SessionId, verification.IsAnchored, storedV3));
    }

    /// <summary>What a receipt of this call signs: the tool, its arguments (<c>{}</c> when absent) and where it goes.</summary>
    private ReceiptAction Action(string tool, JsonObject callParams, string? callId, string? sessionId) => new()
    {
        Tool = tool,
        Params = callParams["arguments"] ?? new JsonObject(),
        Target = _target,
        Transport = _transport,
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
    public async ValueTask RecordRefusalAsync(JsonObject callParams, string? callId, string? sessionId, string reason, CancellationToken cancellationToken = default)
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
            if (_options.AuditLog is { } sink)
            {
                await sink.AppendAsync(receipt, cancellationToken).ConfigureAwait(false);
                SignetTelemetry.ReceiptsWritten.Add(1, new KeyValuePair<string, object?>(ReceiptKindTag, "refusal"));
            }
            LogRefusalRecorded(_logger, label, tool, receipt.Id);
            Notify(new RecordedReceipt(receipt, RecordedReceiptKind.Response, callId ?? "", sessionId, IsAnchored: true, IsStored: _options.AuditLog is not null));
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

    private void RejectCoSignature(RecordedCall call, string problem)
    {
        if (_options.RequireCoSignature)
        {
            // Thrown, not logged here: the session logs the refusal once.
            throw new ToolCallRecordingException(RecordingStage.CoSignature,
                $"Signet withheld the response to tools/call \"{call.Tool}\" ({call.CallId}): {problem}, and a valid server co-signature is required (RequireCoSignature).",
                problem);
        }
        var message = $"The response to tools/call \"{call.Tool}\" ({call.CallId}) was delivered, but {problem}.";
        Report(new ToolCallRecordingError(RecordingStage.CoSignature, call.CallId, call.SessionId, message, null, false));
        LogCoSignatureRejected(_logger, message);
    }

    private static ToolCallRecordingException ResponseNotSigned(RecordedCall call, Exception e)
    {
        var cause = $"the receipt of its response could not be signed: {Sentences.Clause(e.Message)}";
        return new ToolCallRecordingException(RecordingStage.SignResponse,
            $"Signet withheld the response to tools/call \"{call.Tool}\" ({call.CallId}): the tool ran, but {cause}. Set FailureMode to FailOpen to deliver responses whose receipt cannot be signed.",
            cause, e);
    }

    // call: the signed request a failure to store leaves behind (request receipts); trace: the call whose trace the
    // append span continues, when it is not call.
    private async ValueTask<bool> StoreAsync(Receipt receipt, RecordedReceiptKind kind, string what, string hint, CancellationToken cancellationToken,
        RecordedCall? call = null, RecordedCall? trace = null)
    {
        if (_options.AuditLog is not { } sink)
        {
            return false;
        }
        trace ??= call;
        using var span = StartSpan("signet.append", trace?.TraceParent, trace?.TraceState, trace?.Tool, trace?.CallId, kind);
        span?.SetTag(ReceiptIdTag, receipt.Id);
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
            SignetTelemetry.ReceiptsWritten.Add(1, new KeyValuePair<string, object?>(ReceiptKindTag, KindName(kind)));
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw new ToolCallRecordingException(RecordingStage.Store, $"{what}: {Sentences.Clause(e.Message)}. {hint}",
                $"its {KindName(kind)} receipt {receipt.Id} could not be written to the audit log: {Sentences.Clause(e.Message)}", e, call);
        }
    }

    internal const string ReceiptIdTag = "signet.receipt.id";
    internal const string ReceiptKindTag = "signet.receipt.kind";
    internal const string ToolTag = "gen_ai.tool.name";
    internal const string CallIdTag = "mcp.call.id";

    /// <summary>A span of this call's trace (its <c>traceparent</c>, else the current activity); null when nobody listens.</summary>
    internal static Activity? StartSpan(string name, string? traceParent, string? traceState, string? tool, string? callId, RecordedReceiptKind kind,
        ActivityKind activityKind = ActivityKind.Internal)
    {
        var span = SignetTelemetry.StartDetached(name, activityKind, traceParent, traceState);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(ToolTag, tool);
            span.SetTag(CallIdTag, callId);
            span.SetTag(ReceiptKindTag, KindName(kind));
        }
        return span;
    }

    private static string KindName(RecordedReceiptKind kind) => kind switch
    {
        RecordedReceiptKind.Request => "request",
        RecordedReceiptKind.Response => "response",
        _ => "co-signature",
    };

    /// <summary>Merges a request receipt into <c>params._meta</c> under <paramref name="keys"/>, keeping every other key.</summary>
    internal static void AttachReceipt(JsonObject callParams, Receipt receipt, IReadOnlyList<string> keys)
    {
        if (callParams["_meta"] is not JsonObject meta)
        {
            meta = [];
            callParams["_meta"] = meta;
        }
        foreach (var k in keys)
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

    private void Notify(RecordedReceipt recorded) => Callbacks.Invoke(_options.OnReceipt, recorded, _logger, nameof(SignetOptions.OnReceipt));

    private void Report(ToolCallRecordingError error) => Callbacks.Invoke(_options.OnError, error, _logger, nameof(SignetOptions.OnError));

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
}
