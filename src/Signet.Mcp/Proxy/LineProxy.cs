using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Canonicalization;

namespace Signet.Mcp.Proxy;

/// <summary>
/// The stdio proxy's traffic engine, independent of processes: newline-delimited JSON-RPC from the client is
/// forwarded to the server byte for byte, except <c>tools/call</c> requests, which go through the recorder and are
/// re-serialized with their receipt; the server's lines are forwarded byte for byte, and responses to pending calls
/// are shown to the recorder on the way.
/// </summary>
/// <remarks>
/// Each direction is read by one loop. Signing a call and appending its receipt (and recording a response) start as
/// soon as the line is read and overlap with the following lines' (up to 64 in flight), so concurrent calls share the
/// audit log's fsyncs; the lines themselves go out strictly in arrival order, each once everything before it has gone
/// out, so a later line (a cancellation, a notification) never overtakes a call being signed. The two loops run
/// concurrently; writes to the client are serialized so lines never interleave.
/// </remarks>
public sealed class LineProxy : IDisposable
{
    private static readonly StrictJsonOptions LastWins = new() { DuplicateKeys = DuplicateKeyPolicy.LastWins };

    private readonly IToolCallRecorder _recorder;
    private readonly LineProxyOptions _options;
    private readonly ILogger _logger;
    private readonly ProxyOutput _client;
    private readonly ProxyOutput _server;
    private readonly ConcurrentDictionary<string, JsonNode?> _pending = new(StringComparer.Ordinal);
    private readonly OrderedPipeline.Apply _forwardToServer;
    private readonly OrderedPipeline.Apply _forwardToClient;
    private OrderedPipeline? _toServer;
    private OrderedPipeline? _toClient;

    /// <summary>Creates the engine over the client's output stream and the server's input stream.</summary>
    public LineProxy(IToolCallRecorder recorder, Stream clientOutput, Stream serverInput, LineProxyOptions? options = null, ILogger? logger = null)
    {
        _recorder = recorder ?? throw new ArgumentNullException(nameof(recorder));
        _client = new ProxyOutput(clientOutput ?? throw new ArgumentNullException(nameof(clientOutput)));
        _server = new ProxyOutput(serverInput ?? throw new ArgumentNullException(nameof(serverInput)));
        _options = options ?? new LineProxyOptions();
        _logger = logger ?? NullLogger.Instance;
        _forwardToServer = _server.WriteAsync;
        _forwardToClient = _client.WriteAsync;
    }

    /// <summary>The number of forwarded calls still waiting for their response.</summary>
    public int PendingCalls => _pending.Count;

    /// <summary>
    /// Forwards the client's lines to the server until the client's stream ends and every line read has gone out
    /// (returns true) or the server's input is closed (returns false). Throws only on cancellation.
    /// </summary>
    public async Task<bool> RunUpstreamAsync(Stream clientInput, CancellationToken cancellationToken = default)
    {
        var reader = PipeReader.Create(clientInput, LineReader.PipeOptions);
        var overflow = new OverflowState();
        var pipeline = new OrderedPipeline(cancellationToken);
        _toServer = pipeline;
        try
        {
            await RunAsync(pipeline, reader, overflow, _server, OnClientLineAsync, OnClientOverflowAsync, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The server's stdin is gone: it exited or closed it. The caller ends the session.
            ProxyLog.ServerInputClosed(_logger, e.Message);
            return false;
        }
    }

    /// <summary>Forwards the server's lines to the client until the server's stream ends and every line read has gone out.</summary>
    public Task RunDownstreamAsync(Stream serverOutput, CancellationToken cancellationToken = default)
    {
        var reader = PipeReader.Create(serverOutput, LineReader.PipeOptions);
        var pipeline = new OrderedPipeline(cancellationToken);
        _toClient = pipeline;
        return RunAsync(pipeline, reader, new OverflowState(), _client, OnServerLineAsync, OnServerOverflowAsync, cancellationToken);
    }

    /// <summary>One direction: read lines, hand them to the pipeline, then wait until all of them went out.</summary>
    private async Task RunAsync(
        OrderedPipeline pipeline,
        PipeReader reader,
        OverflowState overflow,
        ProxyOutput destination,
        Func<ReadOnlySequence<byte>, CancellationToken, ValueTask> onLine,
        Func<ReadOnlySequence<byte>, bool, OverflowState, CancellationToken, ValueTask> onOverflow,
        CancellationToken cancellationToken)
    {
        ExceptionDispatchInfo? readFailure = null;
        try
        {
            // Reading stops when the pipeline fails (its destination closed), as it would on a failed write.
            await LineReader.ReadAsync(
                reader,
                _options.MaxLineBytes,
                line => onLine(line, cancellationToken),
                (piece, isLast) => onOverflow(piece, isLast, overflow, cancellationToken),
                pipeline.Failed).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            readFailure = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            if (overflow.HoldsLock)
            {
                overflow.HoldsLock = false;
                destination.Release();
            }
            await reader.CompleteAsync().ConfigureAwait(false);
        }

        // The lines still queued go out (or, once the destination has failed, are answered) before the loop ends.
        Exception? pipelineFailure = null;
        try
        {
            await pipeline.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            pipelineFailure = e;
        }
        var stoppedByPipeline = pipelineFailure is not null
            && readFailure?.SourceException is OperationCanceledException
            && !cancellationToken.IsCancellationRequested;
        if (readFailure is not null && !stoppedByPipeline)
        {
            readFailure.Throw();
        }
        if (pipelineFailure is not null)
        {
            ExceptionDispatchInfo.Throw(pipelineFailure);
        }
    }

    /// <summary>
    /// Answers every call still waiting for a response with a JSON-RPC error naming <paramref name="cause"/>
    /// (the server exited or stopped answering) and tells the recorder to forget it.
    /// </summary>
    public async Task FailPendingAsync(string cause, CancellationToken cancellationToken = default)
    {
        foreach (var callId in _pending.Keys.ToArray())
        {
            if (_pending.TryRemove(callId, out var id))
            {
                _recorder.Forget(callId, _options.SessionId);
                ProxyLog.PendingFailed(_logger, callId, cause);
                await _client.WriteAsync(JsonRpcLines.ErrorLine(id, "signet: " + cause), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes a line of the proxy's own to the client, between whole forwarded lines.</summary>
    internal ValueTask WriteToClientAsync(ReadOnlyMemory<byte> line, CancellationToken cancellationToken) =>
        _client.WriteAsync(line, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    // ---- client → server ----

    private ValueTask OnClientLineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        var pipeline = _toServer!;
        var memory = LineReader.Contiguous(line);
        var (content, terminatorMemory) = LineReader.Split(memory);
        if (!MightCarryCall(content.Span))
        {
            return pipeline.RunAsync(line, Task.CompletedTask, _forwardToServer, null, keepsLine: true, cancellationToken);
        }

        if (!StrictJson.TryParse(content.Span, out var node, out var parseError))
        {
            return OnUnreadableClientLineAsync(pipeline, line, content, parseError!, cancellationToken);
        }

        var terminator = terminatorMemory.ToArray();
        return node switch
        {
            JsonObject message => OnClientMessageAsync(pipeline, line, message, terminator, cancellationToken),
            JsonArray batch => OnClientBatchAsync(pipeline, line, batch, terminator, cancellationToken),
            _ => pipeline.RunAsync(line, Task.CompletedTask, _forwardToServer, null, keepsLine: true, cancellationToken),
        };
    }

    private ValueTask OnClientMessageAsync(OrderedPipeline pipeline, ReadOnlySequence<byte> line, JsonObject message, byte[] terminator, CancellationToken cancellationToken)
    {
        if (!TryGetCall(message, out var callId, out var id, out var callParams))
        {
            // A cancellation is applied in order: after the call it cancels has been forwarded (and is pending).
            return pipeline.RunAsync(line, Task.CompletedTask, (l, ct) =>
            {
                ForgetIfCancelled(message);
                return _server.WriteAsync(l, ct);
            }, null, keepsLine: true, cancellationToken);
        }

        // Signing and the durable append start now and overlap with the lines that follow; forwarding waits its turn.
        var recording = RecordRequestAsync(callParams, callId, cancellationToken);
        return pipeline.RunAsync(
            line,
            recording,
            (l, ct) => ForwardCallAsync(l, message, callId, id, recording.Result, terminator, ct),
            cause => AbandonCallAsync(id, callId, recording, cause),
            keepsLine: _options.FailOpen,
            cancellationToken);
    }

    private async ValueTask ForwardCallAsync(ReadOnlySequence<byte> line, JsonObject message, string callId, JsonNode id, string? refusal, byte[] terminator, CancellationToken cancellationToken)
    {
        if (refusal is null)
        {
            _pending[callId] = id.DeepClone();
            await _server.WriteAsync(JsonRpcLines.Serialize(message, terminator), cancellationToken).ConfigureAwait(false);
        }
        else if (_options.FailOpen)
        {
            ProxyLog.ForwardedUnsigned(_logger, callId, refusal);
            await _server.WriteAsync(line, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            ProxyLog.CallRefused(_logger, callId, refusal);
            await _client.WriteAsync(JsonRpcLines.ErrorLine(id, "signet: " + refusal), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A call read but never forwarded (the server's input closed, or the proxy stopped): the client gets an error.</summary>
    private async ValueTask AbandonCallAsync(JsonNode id, string callId, Task<string?> recording, string cause)
    {
        _recorder.Forget(callId, _options.SessionId);
        var message = recording.IsCompletedSuccessfully && recording.Result is { } refusal && !_options.FailOpen
            ? refusal
            : "the call was not forwarded: " + cause;
        ProxyLog.PendingFailed(_logger, callId, message);
        await _client.WriteAsync(JsonRpcLines.ErrorLine(id, "signet: " + message), CancellationToken.None).ConfigureAwait(false);
    }

    private ValueTask OnClientBatchAsync(OrderedPipeline pipeline, ReadOnlySequence<byte> line, JsonArray batch, byte[] terminator, CancellationToken cancellationToken)
    {
        List<BatchCall>? calls = null;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i] is JsonObject message && TryGetCall(message, out var callId, out var id, out var callParams))
            {
                var original = _options.FailOpen ? message.DeepClone() : null;
                calls ??= [];
                calls.Add(new BatchCall(i, callId, id, original, RecordRequestAsync(callParams, callId, cancellationToken)));
            }
        }

        if (calls is null)
        {
            return pipeline.RunAsync(line, Task.CompletedTask, (l, ct) =>
            {
                ForgetCancelled(batch);
                return _server.WriteAsync(l, ct);
            }, null, keepsLine: true, cancellationToken);
        }

        return pipeline.RunAsync(
            line,
            Task.WhenAll(calls.Select(c => c.Recording)),
            (_, ct) => ForwardBatchAsync(batch, calls, terminator, ct),
            async cause =>
            {
                foreach (var call in calls)
                {
                    await AbandonCallAsync(call.Id, call.CallId, call.Recording, cause).ConfigureAwait(false);
                }
            },
            keepsLine: false,
            cancellationToken);
    }

    /// <summary>Applies a batch's recordings in batch order: signed calls become pending, refused ones are answered and removed.</summary>
    private async ValueTask ForwardBatchAsync(JsonArray batch, List<BatchCall> calls, byte[] terminator, CancellationToken cancellationToken)
    {
        var next = 0;
        var removed = new List<int>();
        for (var i = 0; i < batch.Count; i++)
        {
            if (next < calls.Count && calls[next].Index == i)
            {
                var call = calls[next++];
                var refusal = call.Recording.Result;
                if (refusal is null)
                {
                    _pending[call.CallId] = call.Id.DeepClone();
                }
                else if (_options.FailOpen)
                {
                    ProxyLog.ForwardedUnsigned(_logger, call.CallId, refusal);
                    batch[i] = call.Original;
                }
                else
                {
                    ProxyLog.CallRefused(_logger, call.CallId, refusal);
                    await _client.WriteAsync(JsonRpcLines.ErrorLine(call.Id, "signet: " + refusal), cancellationToken).ConfigureAwait(false);
                    removed.Add(i);
                }
            }
            else if (batch[i] is JsonObject message)
            {
                ForgetIfCancelled(message);
            }
        }

        for (var k = removed.Count - 1; k >= 0; k--)
        {
            batch.RemoveAt(removed[k]);
        }
        if (batch.Count > 0)
        {
            await _server.WriteAsync(JsonRpcLines.Serialize(batch, terminator), cancellationToken).ConfigureAwait(false);
        }
    }

    private void ForgetCancelled(JsonArray batch)
    {
        foreach (var element in batch)
        {
            if (element is JsonObject message)
            {
                ForgetIfCancelled(message);
            }
        }
    }

    /// <summary>
    /// A line that carries "tools/call" but is not strict JSON. Malformed JSON goes to the server as it is (the
    /// server answers it). Valid but ambiguous JSON (duplicate keys, lone surrogates, numbers beyond a double, deep
    /// nesting) that holds a tools/call request is refused: the server would run a call Signet cannot sign faithfully.
    /// </summary>
    private ValueTask OnUnreadableClientLineAsync(OrderedPipeline pipeline, ReadOnlySequence<byte> line, ReadOnlyMemory<byte> content, JsonParseException parseError, CancellationToken cancellationToken)
    {
        var ids = LenientCallIds(content);
        if (ids is null)
        {
            return pipeline.RunAsync(line, Task.CompletedTask, _forwardToServer, null, keepsLine: true, cancellationToken);
        }

        var refusal = $"the tools/call message is valid JSON but not strict JSON, so it cannot be signed unambiguously ({parseError.Message})";
        if (_options.FailOpen)
        {
            return pipeline.RunAsync(line, Task.CompletedTask, (l, ct) =>
            {
                ProxyLog.ForwardedUnsigned(_logger, "(unreadable)", refusal);
                return _server.WriteAsync(l, ct);
            }, null, keepsLine: true, cancellationToken);
        }

        return pipeline.RunAsync(line, Task.CompletedTask, async (_, ct) =>
        {
            ProxyLog.CallRefused(_logger, "(unreadable)", refusal);
            foreach (var id in ids)
            {
                await _client.WriteAsync(JsonRpcLines.ErrorLine(id, "signet: " + refusal), ct).ConfigureAwait(false);
            }
        }, null, keepsLine: false, cancellationToken);
    }

    private async ValueTask OnClientOverflowAsync(ReadOnlySequence<byte> piece, bool isLast, OverflowState state, CancellationToken cancellationToken)
    {
        if (_options.FailOpen)
        {
            if (!state.HoldsLock)
            {
                // The pieces are written as they arrive, so everything read before this line must have gone out.
                await _toServer!.DrainAsync(cancellationToken).ConfigureAwait(false);
                ProxyLog.ForwardedUnsigned(_logger, "(oversized)", $"a client message longer than {_options.MaxLineBytes} bytes is forwarded without inspection");
                await _server.AcquireAsync(cancellationToken).ConfigureAwait(false);
                state.HoldsLock = true;
            }
            await _server.WriteUnlockedAsync(piece, cancellationToken).ConfigureAwait(false);
            if (isLast)
            {
                await _server.Stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                state.HoldsLock = false;
                _server.Release();
            }
            return;
        }

        state.Bytes += piece.Length;
        if (isLast)
        {
            var refusal = $"a message of {state.Bytes} bytes exceeds the proxy's line limit of {_options.MaxLineBytes} bytes and was not forwarded (raise it with --max-line-bytes)";
            state.Bytes = 0;
            await _toServer!.RunAsync(ReadOnlySequence<byte>.Empty, Task.CompletedTask, (_, ct) =>
            {
                ProxyLog.CallRefused(_logger, "(oversized)", refusal);
                return _client.WriteAsync(JsonRpcLines.ErrorLine(null, "signet: " + refusal), ct);
            }, null, keepsLine: false, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string?> RecordRequestAsync(JsonObject callParams, string callId, CancellationToken cancellationToken)
    {
        try
        {
            await _recorder.OnRequestAsync(callParams, callId, _options.SessionId, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (ToolCallRefusedException e)
        {
            _recorder.Forget(callId, _options.SessionId);
            return e.Message;
        }
        catch (Exception e)
        {
            // Anything else is also a receipt that was not made: fail closed with the cause.
            _recorder.Forget(callId, _options.SessionId);
            return $"the call could not be signed and logged: {e.Message}";
        }
    }

    private void ForgetIfCancelled(JsonObject message)
    {
        if (_pending.IsEmpty
            || message["method"] is not JsonValue method
            || !method.TryGetValue<string>(out var name)
            || name != "notifications/cancelled"
            || message["params"] is not JsonObject p
            || CallId.From(p["requestId"]) is not { } callId)
        {
            return;
        }
        if (_pending.TryRemove(callId, out _))
        {
            _recorder.Forget(callId, _options.SessionId);
        }
    }

    /// <summary>A tools/call request: method "tools/call", a string or number id, object params.</summary>
    private static bool TryGetCall(JsonObject message, out string callId, out JsonNode id, out JsonObject callParams)
    {
        callId = null!;
        id = null!;
        callParams = null!;
        if (message["method"] is not JsonValue method
            || !method.TryGetValue<string>(out var name)
            || name != "tools/call"
            || !message.TryGetPropertyValue("id", out var idNode)
            || CallId.From(idNode) is not { } parsedId
            || message["params"] is not JsonObject p)
        {
            return false;
        }
        callId = parsedId;
        id = idNode!;
        callParams = p;
        return true;
    }

    /// <summary>
    /// Whether a client line needs a look: it names tools/call or notifications/cancelled, or it has escapes, which
    /// could spell either (a server decodes "tools\/call" the same way).
    /// </summary>
    private static bool MightCarryCall(ReadOnlySpan<byte> content) =>
        content.IndexOf("tools/call"u8) >= 0
        || content.IndexOf((byte)'\\') >= 0
        || content.IndexOf("notifications/cancelled"u8) >= 0;

    /// <summary>
    /// Ids of the tools/call requests in a document that System.Text.Json accepts leniently (duplicate keys, any
    /// depth); null when it is not JSON at all or holds no such request.
    /// </summary>
    private static List<JsonNode?>? LenientCallIds(ReadOnlyMemory<byte> content)
    {
        try
        {
            using var document = JsonDocument.Parse(content, new JsonDocumentOptions { MaxDepth = 1_000_000 });
            var ids = new List<JsonNode?>();
            if (document.RootElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var element in document.RootElement.EnumerateArray())
                {
                    CollectLenientCall(element, ids);
                }
            }
            else
            {
                CollectLenientCall(document.RootElement, ids);
            }
            return ids.Count > 0 ? ids : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void CollectLenientCall(JsonElement element, List<JsonNode?> ids)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        var isCall = false;
        JsonNode? id = null;
        var hasId = false;
        foreach (var property in element.EnumerateObject())
        {
            if (property.NameEquals("method") && property.Value.ValueKind == JsonValueKind.String && property.Value.ValueEquals("tools/call"))
            {
                isCall = true;
            }
            else if (property.NameEquals("id") && property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number)
            {
                hasId = true;
                id = JsonValue.Create(property.Value.Clone());
            }
        }
        if (isCall)
        {
            // A notification-shaped call still gets refused; the error then carries a null id.
            ids.Add(hasId ? id : null);
        }
    }

    // ---- server → client ----

    private ValueTask OnServerLineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        var pipeline = _toClient!;
        if (_pending.IsEmpty)
        {
            return pipeline.RunAsync(line, Task.CompletedTask, _forwardToClient, null, keepsLine: true, cancellationToken);
        }

        var memory = LineReader.Contiguous(line);
        var (content, terminatorMemory) = LineReader.Split(memory);
        if (!MightBeResponse(content.Span) || !StrictJson.TryParse(content.Span, out var node, out _, LastWins))
        {
            return pipeline.RunAsync(line, Task.CompletedTask, _forwardToClient, null, keepsLine: true, cancellationToken);
        }

        switch (node)
        {
            case JsonObject message when RecordResponse(message, cancellationToken) is { } recording:
                {
                    // Recording overlaps with the lines that follow; delivery keeps the server's order.
                    var terminator = terminatorMemory.ToArray();
                    return pipeline.RunAsync(line, recording, (l, ct) => recording.Result is { } replacement
                        ? _client.WriteAsync(JsonRpcLines.Serialize(replacement, terminator), ct)
                        : _client.WriteAsync(l, ct), null, keepsLine: true, cancellationToken);
                }
            case JsonArray batch:
                {
                    List<(int Index, Task<JsonObject?> Recording)>? recordings = null;
                    for (var i = 0; i < batch.Count; i++)
                    {
                        if (batch[i] is JsonObject message && RecordResponse(message, cancellationToken) is { } recording)
                        {
                            recordings ??= [];
                            recordings.Add((i, recording));
                        }
                    }
                    if (recordings is null)
                    {
                        break;
                    }
                    var terminator = terminatorMemory.ToArray();
                    return pipeline.RunAsync(line, Task.WhenAll(recordings.Select(r => r.Recording)), (l, ct) =>
                    {
                        var replaced = false;
                        foreach (var (index, recording) in recordings)
                        {
                            if (recording.Result is { } replacement)
                            {
                                batch[index] = replacement;
                                replaced = true;
                            }
                        }
                        return replaced ? _client.WriteAsync(JsonRpcLines.Serialize(batch, terminator), ct) : _client.WriteAsync(l, ct);
                    }, null, keepsLine: true, cancellationToken);
                }
        }
        return pipeline.RunAsync(line, Task.CompletedTask, _forwardToClient, null, keepsLine: true, cancellationToken);
    }

    /// <summary>
    /// Starts recording a response to a pending call (null when the message is not one); the task gives the error that
    /// replaces the response when the recorder refuses it.
    /// </summary>
    private Task<JsonObject?>? RecordResponse(JsonObject message, CancellationToken cancellationToken)
    {
        if (message.ContainsKey("method")
            || !message.TryGetPropertyValue("id", out var idNode)
            || CallId.From(idNode) is not { } callId
            || !_pending.TryRemove(callId, out var id))
        {
            return null;
        }

        message.TryGetPropertyValue("result", out var result);
        message.TryGetPropertyValue("error", out var error);
        return RecordResponseAsync(callId, id, result, error, cancellationToken);
    }

    private async Task<JsonObject?> RecordResponseAsync(string callId, JsonNode? id, JsonNode? result, JsonNode? error, CancellationToken cancellationToken)
    {
        try
        {
            await _recorder.OnResponseAsync(callId, _options.SessionId, result, error, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (ToolCallRefusedException e)
        {
            if (_options.FailOpen)
            {
                ProxyLog.DeliveredRefusedResponse(_logger, callId, e.Message);
                return null;
            }
            ProxyLog.ResponseRefused(_logger, callId, e.Message);
            return JsonRpcLines.Error(id, "signet: " + e.Message);
        }
        catch (Exception e)
        {
            // The call has run; its result still reaches the client. The failure to record it is reported loudly.
            ProxyLog.ResponseNotRecorded(_logger, callId, e.Message);
            return null;
        }
    }

    private static bool MightBeResponse(ReadOnlySpan<byte> content) =>
        content.IndexOf("\"id\""u8) >= 0 || content.IndexOf((byte)'\\') >= 0;

    private async ValueTask OnServerOverflowAsync(ReadOnlySequence<byte> piece, bool isLast, OverflowState state, CancellationToken cancellationToken)
    {
        if (!state.HoldsLock)
        {
            // The pieces are written as they arrive, so everything read before this line must have gone out.
            await _toClient!.DrainAsync(cancellationToken).ConfigureAwait(false);
            ProxyLog.OversizedServerLine(_logger, _options.MaxLineBytes);
            await _client.AcquireAsync(cancellationToken).ConfigureAwait(false);
            state.HoldsLock = true;
        }
        await _client.WriteUnlockedAsync(piece, cancellationToken).ConfigureAwait(false);
        if (isLast)
        {
            await _client.Stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            state.HoldsLock = false;
            _client.Release();
        }
    }

    private readonly record struct BatchCall(int Index, string CallId, JsonNode Id, JsonNode? Original, Task<string?> Recording);

    private sealed class OverflowState
    {
        public bool HoldsLock { get; set; }

        public long Bytes { get; set; }
    }
}
