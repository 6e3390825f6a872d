using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
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
/// Each direction is processed in order by one loop, so a later line never overtakes a call being signed.
/// The two loops run concurrently; writes to the client are serialized so lines never interleave.
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

    /// <summary>Creates the engine over the client's output stream and the server's input stream.</summary>
    public LineProxy(IToolCallRecorder recorder, Stream clientOutput, Stream serverInput, LineProxyOptions? options = null, ILogger? logger = null)
    {
        _recorder = recorder ?? throw new ArgumentNullException(nameof(recorder));
        _client = new ProxyOutput(clientOutput ?? throw new ArgumentNullException(nameof(clientOutput)));
        _server = new ProxyOutput(serverInput ?? throw new ArgumentNullException(nameof(serverInput)));
        _options = options ?? new LineProxyOptions();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The number of forwarded calls still waiting for their response.</summary>
    public int PendingCalls => _pending.Count;

    /// <summary>
    /// Forwards the client's lines to the server until the client's stream ends (returns true) or the server's
    /// input is closed (returns false). Throws only on cancellation.
    /// </summary>
    public async Task<bool> RunUpstreamAsync(Stream clientInput, CancellationToken cancellationToken = default)
    {
        var reader = PipeReader.Create(clientInput, LineReader.PipeOptions);
        var overflow = new OverflowState();
        try
        {
            await LineReader.ReadAsync(
                reader,
                _options.MaxLineBytes,
                line => OnClientLineAsync(line, cancellationToken),
                (piece, isLast) => OnClientOverflowAsync(piece, isLast, overflow, cancellationToken),
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The server's stdin is gone: it exited or closed it. The caller ends the session.
            ProxyLog.ServerInputClosed(_logger, e.Message);
            return false;
        }
        finally
        {
            if (overflow.HoldsLock)
            {
                _server.Release();
            }
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Forwards the server's lines to the client until the server's stream ends.</summary>
    public async Task RunDownstreamAsync(Stream serverOutput, CancellationToken cancellationToken = default)
    {
        var reader = PipeReader.Create(serverOutput, LineReader.PipeOptions);
        var overflow = new OverflowState();
        try
        {
            await LineReader.ReadAsync(
                reader,
                _options.MaxLineBytes,
                line => OnServerLineAsync(line, cancellationToken),
                (piece, isLast) => OnServerOverflowAsync(piece, isLast, overflow, cancellationToken),
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (overflow.HoldsLock)
            {
                _client.Release();
            }
            await reader.CompleteAsync().ConfigureAwait(false);
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

    private async ValueTask OnClientLineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        var memory = LineReader.Contiguous(line);
        var (content, terminator) = LineReader.Split(memory);
        if (!MightCarryCall(content.Span))
        {
            await _server.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!StrictJson.TryParse(content.Span, out var node, out var parseError))
        {
            await OnUnreadableClientLineAsync(line, content, parseError!, cancellationToken).ConfigureAwait(false);
            return;
        }

        switch (node)
        {
            case JsonObject message:
                await OnClientMessageAsync(line, message, terminator, cancellationToken).ConfigureAwait(false);
                break;
            case JsonArray batch:
                await OnClientBatchAsync(line, batch, terminator, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await _server.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async ValueTask OnClientMessageAsync(ReadOnlySequence<byte> line, JsonObject message, ReadOnlyMemory<byte> terminator, CancellationToken cancellationToken)
    {
        ForgetIfCancelled(message);
        if (!TryGetCall(message, out var callId, out var id, out var callParams))
        {
            await _server.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            return;
        }

        var refusal = await RecordRequestAsync(callParams, callId, cancellationToken).ConfigureAwait(false);
        if (refusal is null)
        {
            _pending[callId] = id.DeepClone();
            await _server.WriteAsync(JsonRpcLines.Serialize(message, terminator.Span), cancellationToken).ConfigureAwait(false);
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

    private async ValueTask OnClientBatchAsync(ReadOnlySequence<byte> line, JsonArray batch, ReadOnlyMemory<byte> terminator, CancellationToken cancellationToken)
    {
        var anyCall = false;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i] is not JsonObject message)
            {
                continue;
            }
            ForgetIfCancelled(message);
            if (!TryGetCall(message, out var callId, out var id, out var callParams))
            {
                continue;
            }

            anyCall = true;
            var original = _options.FailOpen ? message.DeepClone() : null;
            var refusal = await RecordRequestAsync(callParams, callId, cancellationToken).ConfigureAwait(false);
            if (refusal is null)
            {
                _pending[callId] = id.DeepClone();
            }
            else if (_options.FailOpen)
            {
                ProxyLog.ForwardedUnsigned(_logger, callId, refusal);
                batch[i] = original;
            }
            else
            {
                ProxyLog.CallRefused(_logger, callId, refusal);
                await _client.WriteAsync(JsonRpcLines.ErrorLine(id, "signet: " + refusal), cancellationToken).ConfigureAwait(false);
                batch.RemoveAt(i);
                i--;
            }
        }

        if (!anyCall)
        {
            await _server.WriteAsync(line, cancellationToken).ConfigureAwait(false);
        }
        else if (batch.Count > 0)
        {
            await _server.WriteAsync(JsonRpcLines.Serialize(batch, terminator.Span), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A line that carries "tools/call" but is not strict JSON. Malformed JSON goes to the server as it is (the
    /// server answers it). Valid but ambiguous JSON (duplicate keys, lone surrogates, numbers beyond a double, deep
    /// nesting) that holds a tools/call request is refused: the server would run a call Signet cannot sign faithfully.
    /// </summary>
    private async ValueTask OnUnreadableClientLineAsync(ReadOnlySequence<byte> line, ReadOnlyMemory<byte> content, JsonParseException parseError, CancellationToken cancellationToken)
    {
        var ids = LenientCallIds(content);
        if (ids is null)
        {
            await _server.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            return;
        }

        var refusal = $"the tools/call message is valid JSON but not strict JSON, so it cannot be signed unambiguously ({parseError.Message})";
        if (_options.FailOpen)
        {
            ProxyLog.ForwardedUnsigned(_logger, "(unreadable)", refusal);
            await _server.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            return;
        }

        ProxyLog.CallRefused(_logger, "(unreadable)", refusal);
        foreach (var id in ids)
        {
            await _client.WriteAsync(JsonRpcLines.ErrorLine(id, "signet: " + refusal), cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask OnClientOverflowAsync(ReadOnlySequence<byte> piece, bool isLast, OverflowState state, CancellationToken cancellationToken)
    {
        if (_options.FailOpen)
        {
            if (!state.HoldsLock)
            {
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
            ProxyLog.CallRefused(_logger, "(oversized)", refusal);
            await _client.WriteAsync(JsonRpcLines.ErrorLine(null, "signet: " + refusal), cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<string?> RecordRequestAsync(JsonObject callParams, string callId, CancellationToken cancellationToken)
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

    private async ValueTask OnServerLineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        if (_pending.IsEmpty)
        {
            await _client.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            return;
        }

        var memory = LineReader.Contiguous(line);
        var (content, terminator) = LineReader.Split(memory);
        if (!MightBeResponse(content.Span) || !StrictJson.TryParse(content.Span, out var node, out _, LastWins))
        {
            await _client.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            return;
        }

        switch (node)
        {
            case JsonObject message:
                {
                    var replacement = await OnServerMessageAsync(message, cancellationToken).ConfigureAwait(false);
                    if (replacement is null)
                    {
                        await _client.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await _client.WriteAsync(JsonRpcLines.Serialize(replacement, terminator.Span), cancellationToken).ConfigureAwait(false);
                    }
                    break;
                }
            case JsonArray batch:
                {
                    var replaced = false;
                    for (var i = 0; i < batch.Count; i++)
                    {
                        if (batch[i] is JsonObject message && await OnServerMessageAsync(message, cancellationToken).ConfigureAwait(false) is { } replacement)
                        {
                            batch[i] = replacement;
                            replaced = true;
                        }
                    }
                    if (replaced)
                    {
                        await _client.WriteAsync(JsonRpcLines.Serialize(batch, terminator.Span), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await _client.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                    }
                    break;
                }
            default:
                await _client.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Records a response to a pending call; returns the error that replaces it when the recorder refuses it.</summary>
    private async ValueTask<JsonObject?> OnServerMessageAsync(JsonObject message, CancellationToken cancellationToken)
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

    private sealed class OverflowState
    {
        public bool HoldsLock { get; set; }

        public long Bytes { get; set; }
    }
}
