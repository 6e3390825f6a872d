using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Canonicalization;
using Signet.Mcp;
using Signet.Mcp.Recording;

namespace Signet.Cli.Proxy;

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
internal sealed class LineProxy : IDisposable
{
    private static readonly StrictJsonOptions LastWins = new() { DuplicateKeys = DuplicateKeyPolicy.LastWins };

    private readonly ToolCallSession _session;
    private readonly LineProxyOptions _options;
    private readonly ILogger _logger;
    private readonly ProxyOutput _client;
    private readonly ProxyOutput _server;
    private readonly OrderedPipeline.Apply _forwardToServer;
    private readonly OrderedPipeline.Apply _forwardToClient;
    private OrderedPipeline? _toServer;
    private OrderedPipeline? _toClient;

    /// <summary>Creates the engine over the client's output stream and the server's input stream.</summary>
    public LineProxy(IToolCallRecorder recorder, Stream clientOutput, Stream serverInput, LineProxyOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        _client = new ProxyOutput(clientOutput ?? throw new ArgumentNullException(nameof(clientOutput)));
        _server = new ProxyOutput(serverInput ?? throw new ArgumentNullException(nameof(serverInput)));
        _options = options ?? new LineProxyOptions();
        _logger = logger ?? NullLogger.Instance;
        _session = new ToolCallSession(recorder, _options.SessionId, _logger);
        _forwardToServer = _server.WriteAsync;
        _forwardToClient = _client.WriteAsync;
    }

    /// <summary>The number of forwarded calls still waiting for their response.</summary>
    public int PendingCalls => _session.PendingCount;

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
    /// (the server exited or stopped answering); the session forgets them.
    /// </summary>
    public async Task FailPendingAsync(string cause, CancellationToken cancellationToken = default)
    {
        foreach (var call in _session.End(cause))
        {
            await _client.WriteAsync(JsonRpcLines.ErrorLine(call.Id, ToolCallSession.ErrorMessage(cause)), cancellationToken).ConfigureAwait(false);
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

        if (TryParse(content.Span, StrictJsonOptions.Default) is not { } parsed)
        {
            return pipeline.RunAsync(line, Task.CompletedTask, _forwardToServer, null, keepsLine: true, cancellationToken);
        }
        if (parsed.Error is { } parseError)
        {
            return OnUnreadableClientLineAsync(pipeline, line, content, parseError, cancellationToken);
        }

        var terminator = terminatorMemory.ToArray();
        return parsed.Node switch
        {
            JsonObject message => OnClientMessageAsync(pipeline, line, content, message, terminator, cancellationToken),
            JsonArray batch => OnClientBatchAsync(pipeline, line, content, batch, terminator, cancellationToken),
            _ => pipeline.RunAsync(line, Task.CompletedTask, _forwardToServer, null, keepsLine: true, cancellationToken),
        };
    }

    /// <summary>
    /// Parses a line; a failure of any kind (not only a syntax error: invalid UTF-8 or anything else the parser throws)
    /// becomes the error text, so that one line can never end the session. Null for a blank line.
    /// </summary>
    internal static (JsonNode? Node, string? Error)? TryParse(ReadOnlySpan<byte> content, StrictJsonOptions options)
    {
        if (content.Trim(" \t\r"u8).IsEmpty)
        {
            return null;
        }
        try
        {
            // The parser checks the UTF-8 of the whole line first (a string with such bytes cannot be signed or matched
            // faithfully); its offset is reported in the proxy's own words.
            return StrictJson.TryParse(content, out var node, out var error, options) ? (node, null)
                : (null, error!.Kind == JsonParseErrorKind.InvalidUtf8 ? $"the line is not valid UTF-8 (at byte {error.ByteOffset})" : error.Message);
        }
        catch (Exception e)
        {
            return (null, e.Message);
        }
    }

    private ValueTask OnClientMessageAsync(OrderedPipeline pipeline, ReadOnlySequence<byte> line, ReadOnlyMemory<byte> content, JsonObject message, byte[] terminator, CancellationToken cancellationToken)
    {
        if (!ToolCallMessage.IsToolsCall(message))
        {
            // A cancellation is applied in order: after the call it cancels has been forwarded (and is pending).
            return pipeline.RunAsync(line, Task.CompletedTask, (l, ct) =>
            {
                _session.CancelIfCancellation(message);
                return _server.WriteAsync(l, ct);
            }, null, keepsLine: true, cancellationToken);
        }

        // A call that cannot be signed is answered with its id exactly as sent (any JSON value, even bytes that are not UTF-8).
        var rawId = ToolCallMessage.Problem(message) is null ? null : (JsonRpcScanner.Scan(content.Span) is [var only] ? only : default).Id(content).ToArray();
        // Signing and the durable append start now and overlap with the lines that follow; forwarding waits its turn.
        var starting = _session.StartAsync(message, cancellationToken).AsTask();
        return pipeline.RunAsync(
            line,
            starting,
            (l, ct) => ApplyAsync(l, message, starting.Result, rawId, terminator, ct),
            cause => AbandonAsync(starting, rawId, cause),
            keepsLine: _session.FailsOpen,
            cancellationToken);
    }

    /// <summary>Carries out the session's verdict on a call, in line order.</summary>
    private async ValueTask ApplyAsync(ReadOnlySequence<byte> line, JsonObject message, ToolCallStart start, byte[]? rawId, byte[] terminator, CancellationToken cancellationToken)
    {
        switch (start.Verdict)
        {
            case ToolCallVerdict.Forward:
                _session.Forwarded(start);
                await _server.WriteAsync(JsonRpcLines.Serialize(message, terminator), cancellationToken).ConfigureAwait(false);
                break;
            case ToolCallVerdict.ForwardAsSent:
                await _server.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                break;
            case ToolCallVerdict.Refuse:
                await _client.WriteAsync(ErrorLine(start, rawId, start.Reason!), cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>A call read but never forwarded (the server's input closed, or the proxy stopped): the client gets an error.</summary>
    private async ValueTask AbandonAsync(Task<ToolCallStart> starting, byte[]? rawId, string cause)
    {
        if (!starting.IsCompletedSuccessfully)
        {
            // Never looked at (the proxy stopped first): answered under the id as sent, when it could be read.
            if (rawId is not null)
            {
                await _client.WriteAsync(JsonRpcLines.RawIdErrorLine(rawId, ToolCallSession.ErrorMessage("the call was not forwarded: " + cause)), CancellationToken.None).ConfigureAwait(false);
            }
            return;
        }
        var start = starting.Result;
        if (start.Verdict == ToolCallVerdict.Drop)
        {
            return;
        }
        await _client.WriteAsync(ErrorLine(start, rawId, _session.Abandon(start, cause)), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The error line answering a call: under its raw id when it could not be signed, else under its parsed id.</summary>
    private static byte[] ErrorLine(ToolCallStart start, byte[]? rawId, string reason) =>
        rawId is not null
            ? JsonRpcLines.RawIdErrorLine(rawId, ToolCallSession.ErrorMessage(reason))
            : JsonRpcLines.ErrorLine(start.Id, ToolCallSession.ErrorMessage(reason));

    /// <summary>A raw id for the operator log (invalid UTF-8 shown as U+FFFD).</summary>
    private static string Label(byte[] rawId) => rawId.Length == 0 ? "(null)" : System.Text.Encoding.UTF8.GetString(rawId);

    private ValueTask OnClientBatchAsync(OrderedPipeline pipeline, ReadOnlySequence<byte> line, ReadOnlyMemory<byte> content, JsonArray batch, byte[] terminator, CancellationToken cancellationToken)
    {
        List<BatchCall>? calls = null;
        List<JsonRpcScanner.Message>? scanned = null;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i] is not JsonObject message || !ToolCallMessage.IsToolsCall(message))
            {
                continue;
            }
            var original = _session.FailsOpen ? message.DeepClone() : null;
            byte[]? rawId = null;
            if (ToolCallMessage.Problem(message) is not null)
            {
                scanned ??= JsonRpcScanner.Scan(content.Span);
                rawId = (scanned is not null && i < scanned.Count ? scanned[i] : default).Id(content).ToArray();
            }
            calls ??= [];
            calls.Add(new BatchCall(i, message, original, rawId, _session.StartAsync(message, cancellationToken).AsTask()));
        }

        if (calls is null)
        {
            return pipeline.RunAsync(line, Task.CompletedTask, (l, ct) =>
            {
                CancelAll(batch);
                return _server.WriteAsync(l, ct);
            }, null, keepsLine: true, cancellationToken);
        }

        return pipeline.RunAsync(
            line,
            Task.WhenAll(calls.Select(c => c.Starting)),
            (_, ct) => ForwardBatchAsync(batch, calls, terminator, ct),
            async cause =>
            {
                foreach (var call in calls)
                {
                    await AbandonAsync(call.Starting, call.RawId, cause).ConfigureAwait(false);
                }
            },
            keepsLine: false,
            cancellationToken);
    }

    /// <summary>Applies a batch's verdicts in batch order: signed calls become pending, refused ones are answered and removed.</summary>
    private async ValueTask ForwardBatchAsync(JsonArray batch, List<BatchCall> calls, byte[] terminator, CancellationToken cancellationToken)
    {
        var next = 0;
        var removed = new List<int>();
        for (var i = 0; i < batch.Count; i++)
        {
            if (next < calls.Count && calls[next].Index == i)
            {
                var call = calls[next++];
                var start = call.Starting.Result;
                switch (start.Verdict)
                {
                    case ToolCallVerdict.Forward:
                        _session.Forwarded(start);
                        break;
                    case ToolCallVerdict.ForwardAsSent:
                        batch[i] = call.Original;
                        break;
                    case ToolCallVerdict.Refuse:
                        await _client.WriteAsync(ErrorLine(start, call.RawId, start.Reason!), cancellationToken).ConfigureAwait(false);
                        removed.Add(i);
                        break;
                    default:
                        removed.Add(i);
                        break;
                }
            }
            else if (batch[i] is JsonObject message)
            {
                _session.CancelIfCancellation(message);
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

    private void CancelAll(JsonArray batch)
    {
        foreach (var element in batch)
        {
            if (element is JsonObject message)
            {
                _session.CancelIfCancellation(message);
            }
        }
    }

    /// <summary>
    /// A line that may hold a tools/call but cannot be parsed strictly (a syntax error, invalid UTF-8, duplicate keys,
    /// a lone surrogate, a number beyond a double, deep nesting). It is read again leniently: when it holds no
    /// tools/call, or is not JSON at all, it goes to the server as it is (the server answers it); a tools/call in it is
    /// refused, since the server could run a call Signet cannot sign faithfully.
    /// </summary>
    private ValueTask OnUnreadableClientLineAsync(OrderedPipeline pipeline, ReadOnlySequence<byte> line, ReadOnlyMemory<byte> content, string parseError, CancellationToken cancellationToken)
    {
        var calls = JsonRpcScanner.Scan(content.Span)?.Where(m => m.IsCall).Select(m => (m.HasId, Id: m.Id(content).ToArray())).ToList();
        if (calls is not { Count: > 0 })
        {
            return pipeline.RunAsync(line, Task.CompletedTask, _forwardToServer, null, keepsLine: true, cancellationToken);
        }

        var refusal = $"the tools/call is not strict JSON, so it cannot be signed unambiguously ({parseError})";
        var starts = calls.Select(call => (call.Id, Start: _session.StartUnreadable(call.HasId, call.HasId ? Label(call.Id) : "(no id)", refusal))).ToList();
        if (_session.FailsOpen)
        {
            return pipeline.RunAsync(line, Task.CompletedTask, _forwardToServer, null, keepsLine: true, cancellationToken);
        }

        return pipeline.RunAsync(line, Task.CompletedTask, async (_, ct) =>
        {
            foreach (var (id, start) in starts)
            {
                if (start.Verdict == ToolCallVerdict.Refuse)
                {
                    await _client.WriteAsync(JsonRpcLines.RawIdErrorLine(id, ToolCallSession.ErrorMessage(refusal)), ct).ConfigureAwait(false);
                }
            }
        }, null, keepsLine: false, cancellationToken);
    }

    private async ValueTask OnClientOverflowAsync(ReadOnlySequence<byte> piece, bool isLast, OverflowState state, CancellationToken cancellationToken)
    {
        if (_session.FailsOpen)
        {
            if (!state.HoldsLock)
            {
                // The pieces are written as they arrive, so everything read before this line must have gone out.
                await _toServer!.DrainAsync(cancellationToken).ConfigureAwait(false);
                _session.StartUnreadable(false, "(oversized)", $"a client message longer than {_options.MaxLineBytes} bytes is forwarded without inspection");
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

        if (state.Bytes == 0)
        {
            state.Id = OversizedId(piece);
        }
        state.Bytes += piece.Length;
        if (isLast)
        {
            var refusal = $"a message of {state.Bytes} bytes exceeds the proxy's line limit of {_options.MaxLineBytes} bytes and was not forwarded (raise it with --max-line-bytes)";
            var id = state.Id;
            state.Bytes = 0;
            state.Id = [];
            await _toServer!.RunAsync(ReadOnlySequence<byte>.Empty, Task.CompletedTask, (_, ct) =>
            {
                // Answered even when no id was found in its first bytes (with a null id): it may be a call that waits.
                _session.StartUnreadable(true, id.Length > 0 ? Label(id) : "(oversized)", refusal);
                return _client.WriteAsync(JsonRpcLines.RawIdErrorLine(id, ToolCallSession.ErrorMessage(refusal)), ct);
            }, null, keepsLine: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How far into an oversized line its id is looked for.</summary>
    internal const int OversizedIdScanBytes = 4096;

    /// <summary>The id of an oversized line when a complete one is in its first bytes (empty otherwise).</summary>
    internal static byte[] OversizedId(ReadOnlySequence<byte> firstPiece) =>
        JsonRpcScanner.LeadingId(firstPiece.Slice(0, Math.Min(firstPiece.Length, OversizedIdScanBytes)).ToArray()).ToArray();

    /// <summary>
    /// Whether a client line needs a look: it names tools/call or notifications/cancelled, or it has escapes, which
    /// could spell either (a server decodes "tools\/call" the same way).
    /// </summary>
    private static bool MightCarryCall(ReadOnlySpan<byte> content) =>
        content.IndexOf("tools/call"u8) >= 0
        || content.IndexOf((byte)'\\') >= 0
        || content.IndexOf("notifications/cancelled"u8) >= 0;

    // ---- server → client ----

    private ValueTask OnServerLineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        var pipeline = _toClient!;
        if (!_session.HasPending)
        {
            return pipeline.RunAsync(line, Task.CompletedTask, _forwardToClient, null, keepsLine: true, cancellationToken);
        }

        var memory = LineReader.Contiguous(line);
        var (content, terminatorMemory) = LineReader.Split(memory);
        if (!MightBeResponse(content.Span))
        {
            return pipeline.RunAsync(line, Task.CompletedTask, _forwardToClient, null, keepsLine: true, cancellationToken);
        }
        var parsed = TryParse(content.Span, LastWins);
        if (parsed is { Error: { } unreadable })
        {
            // Forwarded as it is; a call it may answer stays pending (and is answered at the end if nothing else does).
            ProxyLog.ServerLineUnreadable(_logger, unreadable);
            return pipeline.RunAsync(line, Task.CompletedTask, _forwardToClient, null, keepsLine: true, cancellationToken);
        }
        var node = parsed?.Node;

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
    /// replaces the response when the session withholds it.
    /// </summary>
    private Task<JsonObject?>? RecordResponse(JsonObject message, CancellationToken cancellationToken) =>
        _session.TryTakeResponse(message, out var call, out var result, out var error)
            ? RecordResponseAsync(call, result, error, cancellationToken)
            : null;

    private async Task<JsonObject?> RecordResponseAsync(PendingToolCall call, JsonNode? result, JsonNode? error, CancellationToken cancellationToken) =>
        await _session.RecordResponseAsync(call, result, error, cancellationToken).ConfigureAwait(false) is { } refusal
            ? JsonRpcLines.Error(call.Id, ToolCallSession.ErrorMessage(refusal))
            : null;

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

    private readonly record struct BatchCall(int Index, JsonObject Message, JsonNode? Original, byte[]? RawId, Task<ToolCallStart> Starting);

    private sealed class OverflowState
    {
        public bool HoldsLock { get; set; }

        public long Bytes { get; set; }

        /// <summary>The oversized line's id as read from its first bytes (empty: none).</summary>
        public byte[] Id { get; set; } = [];
    }
}
