using System.Buffers;
using System.IO.Pipelines;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Canonicalization;
using Signet.Mcp;
using Signet.Mcp.Recording;

namespace Signet.Cli.Proxy;

/// <summary>
/// <c>signet proxy --url</c>: speaks newline-delimited JSON-RPC to the client on stdio and Streamable HTTP to a remote
/// server, signing every <c>tools/call</c> on the way. Messages cross an HTTP hop, so unlike the stdio proxy they are
/// re-serialized in both directions (same values; whitespace and escaping may differ, batches are split).
/// </summary>
internal static class HttpBackendProxy
{
    private static readonly JsonSerializerOptions WireOptions = new(McpJsonUtilities.DefaultOptions)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonTypeInfo<JsonRpcMessage> MessageInfo =
        (JsonTypeInfo<JsonRpcMessage>)WireOptions.GetTypeInfo(typeof(JsonRpcMessage));

    /// <summary>
    /// Runs until the client closes its input (returns 0) or the server ends the session (returns 1).
    /// Throws <see cref="SignetException"/> when the server cannot be reached at start.
    /// </summary>
    public static async Task<int> RunAsync(
        HttpBackendProxyOptions options,
        IToolCallRecorder recorder,
        Stream clientInput,
        Stream clientOutput,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(recorder);
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger("Signet.Proxy");

        var transportOptions = new HttpClientTransportOptions
        {
            Endpoint = options.Endpoint,
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = options.Headers?.ToDictionary(h => h.Key, h => h.Value),
            Name = "signet-proxy",
        };
        var posts = new PostObserver { InnerHandler = new SocketsHttpHandler() };
        // No overall timeout: the server-to-client SSE stream stays open for the whole session.
        var http = new HttpClient(posts) { Timeout = Timeout.InfiniteTimeSpan };
        ITransport transport;
        try
        {
            transport = await new HttpClientTransport(transportOptions, http, loggerFactory, ownsHttpClient: true).ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TimeoutException)
        {
            throw new SignetException($"could not connect to the MCP server at {options.Endpoint}: {e.Message}", e);
        }

        await using (transport.ConfigureAwait(false))
        {
            // As over stdio: the client's lines are read (and signed) on a thread of their own, and our stdout is
            // written on the calling thread (see ReaderThreadStream).
            using var clientReader = new ReaderThreadStream(clientInput, "Signet client reader");
            using var output = new ProxyOutput(new SynchronousWriteStream(clientOutput));
            var session = new Session(options, recorder, transport, posts, output, logger);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var downstream = session.RunDownstreamAsync(stop.Token);
            var upstream = session.RunUpstreamAsync(clientReader, stop.Token);
            var first = await Task.WhenAny(upstream, downstream).ConfigureAwait(false);
            var exitCode = first == upstream ? 0 : 1;
            var cause = first == upstream
                ? "the client closed its input before the server answered this call"
                : $"the MCP server at {options.Endpoint} ended the session before answering this call";
            await stop.CancelAsync().ConfigureAwait(false);
            await session.FailPendingAsync(cause).ConfigureAwait(false);
            if (first == downstream && downstream.IsFaulted)
            {
                logger.LogError("the connection to {Endpoint} failed: {Reason}", options.Endpoint, downstream.Exception?.GetBaseException().Message);
            }
            return exitCode;
        }
    }

    private sealed class Session(HttpBackendProxyOptions options, IToolCallRecorder recorder, ITransport transport, PostObserver posts, ProxyOutput output, ILogger logger)
    {
        private static readonly TimeSpan HeadersGrace = TimeSpan.FromSeconds(2);

        private readonly ToolCallSession _session = new(recorder, options.Traffic.SessionId, logger);

        public async Task RunUpstreamAsync(Stream clientInput, CancellationToken cancellationToken)
        {
            var reader = PipeReader.Create(clientInput, LineReader.PipeOptions);
            var pipeline = new OrderedPipeline(cancellationToken);
            var overflowBytes = 0L;
            ReadOnlyMemory<byte> overflowId = default;
            try
            {
                await LineReader.ReadAsync(
                    reader,
                    options.Traffic.MaxLineBytes,
                    line => OnClientLineAsync(pipeline, line, cancellationToken),
                    async (piece, isLast) =>
                    {
                        if (overflowBytes == 0)
                        {
                            overflowId = LineProxy.OversizedId(piece);
                        }
                        overflowBytes += piece.Length;
                        if (isLast)
                        {
                            // Over HTTP there is no forwarding a message unread: it must become one JSON-RPC message.
                            var refusal = $"a message of {overflowBytes} bytes exceeds the proxy's line limit of {options.Traffic.MaxLineBytes} bytes and was not forwarded (raise it with --max-line-bytes)";
                            _session.Refuse(true, overflowId.IsEmpty ? "(oversized)" : System.Text.Encoding.UTF8.GetString(overflowId.Span), refusal);
                            var error = JsonRpcLines.RawIdErrorLine(overflowId, ToolCallSession.ErrorMessage(refusal));
                            overflowBytes = 0;
                            overflowId = default;
                            await ToClientInOrderAsync(pipeline, error, cancellationToken).ConfigureAwait(false);
                        }
                    },
                    pipeline.Failed).ConfigureAwait(false);
            }
            finally
            {
                await reader.CompleteAsync().ConfigureAwait(false);
                // What was read is sent (in order) before the loop ends.
                await pipeline.CompleteAsync().ConfigureAwait(false);
            }
        }

        public async Task RunDownstreamAsync(CancellationToken cancellationToken)
        {
            var pipeline = new OrderedPipeline(cancellationToken);
            try
            {
                await foreach (var message in transport.MessageReader.ReadAllAsync(pipeline.Failed).ConfigureAwait(false))
                {
                    if (message is JsonRpcMessageWithId { Id: var id } and (JsonRpcResponse or JsonRpcError)
                        && _session.TryTakeResponse(IdNode(id), out var call))
                    {
                        // Recording overlaps with the messages that follow; delivery keeps the server's order.
                        var recording = RecordResponseAsync(message, call, id, cancellationToken);
                        await pipeline.RunAsync(ReadOnlySequence<byte>.Empty, recording,
                            (_, ct) => WriteAsync(Serialize(recording.Result, call.Id), ct), null, keepsLine: false, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await pipeline.RunAsync(ReadOnlySequence<byte>.Empty, Task.CompletedTask,
                            (_, ct) => WriteAsync(Serialize(message), ct), null, keepsLine: false, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                await pipeline.CompleteAsync().ConfigureAwait(false);
            }
        }

        public async Task FailPendingAsync(string cause)
        {
            foreach (var call in _session.End(cause))
            {
                try
                {
                    await WriteAsync(JsonRpcLines.ErrorLine(call.Id, ToolCallSession.ErrorMessage(cause)), CancellationToken.None).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    return; // the client is gone
                }
            }
        }

        private async ValueTask OnClientLineAsync(OrderedPipeline pipeline, ReadOnlySequence<byte> line, CancellationToken cancellationToken)
        {
            var (content, _) = LineReader.Split(LineReader.Contiguous(line));
            if (content.Span.Trim(" \t\r"u8).IsEmpty)
            {
                return;
            }
            // Whatever the parser refuses or throws (invalid UTF-8, …) is this line's problem, never the session's.
            var (node, parseError) = LineProxy.TryParse(content.Span, StrictJsonOptions.Default) ?? (null, "empty line");
            if (parseError is not null)
            {
                await OnUnreadableClientLineAsync(pipeline, content, parseError, cancellationToken).ConfigureAwait(false);
                return;
            }

            var messages = node is JsonArray batch ? batch.ToArray() : [node];
            foreach (var element in messages)
            {
                string? callId = null;
                if (element is JsonObject call && ToolCallMessage.IsToolsCall(call))
                {
                    if (ToolCallMessage.Problem(call) is not null)
                    {
                        // The session refuses it (recording the refusal), drops it, or under fail-open lets it through as sent.
                        var start = await _session.StartAsync(call, cancellationToken).ConfigureAwait(false);
                        if (start.Verdict == ToolCallVerdict.Refuse)
                        {
                            await ToClientInOrderAsync(pipeline, JsonRpcLines.ErrorLine(start.Id, ToolCallSession.ErrorMessage(start.Reason!)), cancellationToken).ConfigureAwait(false);
                            continue;
                        }
                        if (start.Verdict == ToolCallVerdict.Drop)
                        {
                            continue;
                        }
                    }
                    else
                    {
                        callId = CallId.From(call["id"]);
                    }
                }

                JsonRpcMessage? message;
                string? unreadable = null;
                try
                {
                    message = element?.Deserialize(MessageInfo);
                }
                catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NotSupportedException)
                {
                    message = null;
                    unreadable = e.Message;
                    logger.LogWarning("not a JSON-RPC message: {Reason}", e.Message);
                }
                if (message is null && callId is not null)
                {
                    // A call the SDK cannot carry (e.g. an id that is neither an integer nor a string, such as 1.0) is refused, not dropped.
                    var refusal = $"the tools/call cannot be sent over Streamable HTTP: the MCP SDK cannot carry it ({Sentences.Clause(unreadable ?? "not a JSON-RPC message")})";
                    _session.Refuse(true, callId, refusal);
                    await ToClientInOrderAsync(pipeline, JsonRpcLines.ErrorLine(element!["id"], ToolCallSession.ErrorMessage(refusal)), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (message is null)
                {
                    await ToClientInOrderAsync(pipeline, JsonRpcLines.Serialize(InvalidRequest(element), "\n"u8), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                await OnClientMessageAsync(pipeline, message, callId, element!["id"], cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// A line that cannot be parsed strictly. A tools/call in it (found by a lenient scan) is refused with its id as
        /// sent (or dropped, when it has none); anything else gets the parse error a JSON-RPC server would send.
        /// </summary>
        private async ValueTask OnUnreadableClientLineAsync(OrderedPipeline pipeline, ReadOnlyMemory<byte> content, string parseError, CancellationToken cancellationToken)
        {
            var calls = JsonRpcScanner.Scan(content.Span)?.Where(m => m.IsCall).ToList();
            if (calls is not { Count: > 0 })
            {
                // Nothing unreadable can cross HTTP; answer as a JSON-RPC server would.
                await ToClientInOrderAsync(pipeline, JsonRpcLines.Serialize(ParseError(parseError), "\n"u8), cancellationToken).ConfigureAwait(false);
                return;
            }
            var refusal = $"the tools/call is not strict JSON, so it cannot be signed unambiguously ({parseError})";
            foreach (var call in calls)
            {
                var id = call.HasId ? call.Id(content).ToArray() : [];
                // Nothing unreadable can cross HTTP, so even under fail-open it is refused.
                if (_session.Refuse(call.HasId, call.HasId ? System.Text.Encoding.UTF8.GetString(id) : "(no id)", refusal).Verdict == ToolCallVerdict.Refuse)
                {
                    await ToClientInOrderAsync(pipeline, JsonRpcLines.RawIdErrorLine(id, ToolCallSession.ErrorMessage(refusal)), cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private ValueTask OnClientMessageAsync(OrderedPipeline pipeline, JsonRpcMessage message, string? signedCallId, JsonNode? clientId, CancellationToken cancellationToken)
        {
            if (message is JsonRpcRequest { Method: RequestMethods.ToolsCall, Params: JsonObject callParams } request
                && signedCallId is not null)
            {
                // Signing and the durable append start now and overlap with the messages that follow; sending waits its turn.
                var starting = _session.StartAsync(true, clientId, true, callParams, cancellationToken).AsTask();
                return pipeline.RunAsync(
                    ReadOnlySequence<byte>.Empty,
                    starting,
                    (_, ct) => SendCallAsync(request, starting.Result, ct),
                    async cause =>
                    {
                        var reason = starting.IsCompletedSuccessfully ? _session.Abandon(starting.Result, cause) : "the call was not forwarded: " + cause;
                        await WriteAsync(JsonRpcLines.ErrorLine(clientId, ToolCallSession.ErrorMessage(reason)), CancellationToken.None).ConfigureAwait(false);
                    },
                    keepsLine: false,
                    cancellationToken);
            }

            return pipeline.RunAsync(ReadOnlySequence<byte>.Empty, Task.CompletedTask, (empty, ct) =>
            {
                // A cancellation is applied in order: after the call it cancels has been sent (and is pending).
                if (message is JsonRpcNotification { Method: NotificationMethods.CancelledNotification, Params: JsonObject cancelled })
                {
                    _session.Cancel(cancelled["requestId"]);
                }
                return SendInOrderAsync(message, ct);
            }, null, keepsLine: false, cancellationToken);
        }

        private async ValueTask SendCallAsync(JsonRpcRequest request, ToolCallStart start, CancellationToken cancellationToken)
        {
            switch (start.Verdict)
            {
                case ToolCallVerdict.Refuse:
                    await WriteAsync(JsonRpcLines.ErrorLine(start.Id, ToolCallSession.ErrorMessage(start.Reason!)), cancellationToken).ConfigureAwait(false);
                    return;
                case ToolCallVerdict.Forward:
                    _session.Forwarded(start);
                    break;
            }
            await SendInOrderAsync(request, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Order matters (initialized must reach the server before the next request), but a POST can stay open for a
        /// whole tool call, and the client's next messages (a cancellation, the answer to an elicitation) must not
        /// wait behind it. So the next message goes once this one's POST has been answered with headers (the server
        /// has taken it), or its send finished, or, for a server that holds its headers back, after a short grace.
        /// </summary>
        private async ValueTask SendInOrderAsync(JsonRpcMessage message, CancellationToken cancellationToken)
        {
            var accepted = posts.ExpectPost();
            var send = SendAsync(message, cancellationToken);
            using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(accepted, send, Task.Delay(HeadersGrace, grace.Token)).ConfigureAwait(false);
            await grace.CancelAsync().ConfigureAwait(false);
        }

        /// <summary>A line of the proxy's own for the client, after the client's earlier messages have been handled.</summary>
        private ValueTask ToClientInOrderAsync(OrderedPipeline pipeline, byte[] line, CancellationToken cancellationToken) =>
            pipeline.RunAsync(ReadOnlySequence<byte>.Empty, Task.CompletedTask, (_, ct) => WriteAsync(line, ct), null, keepsLine: false, cancellationToken);

        private async Task SendAsync(JsonRpcMessage message, CancellationToken cancellationToken)
        {
            try
            {
                await transport.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (McpException e) when (message is JsonRpcRequest && e is not McpProtocolException && e.Message.Contains("without a reply", StringComparison.Ordinal))
            {
                // The server took the request, but its POST response carried no answer under the same id: a server that
                // echoes ids in its own form (2^53+1 as 2^53). The answer it did send is matched by value downstream;
                // a call it never answers stays pending and is answered when the session ends.
                logger.LogWarning("the MCP server at {Endpoint} answered a request under another id: {Reason}", options.Endpoint, e.Message);
            }
            catch (Exception e)
            {
                logger.LogError("could not send a message to {Endpoint}: {Reason}", options.Endpoint, e.Message);
                if (message is JsonRpcRequest request)
                {
                    _session.TryTakeResponse(IdNode(request.Id), out _);
                    try
                    {
                        await WriteAsync(JsonRpcLines.ErrorLine(IdNode(request.Id), $"signet: the MCP server at {options.Endpoint} could not be reached: {e.Message}"), CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (IOException)
                    {
                        // The client is gone too.
                    }
                }
            }
        }

        private async Task<JsonRpcMessage> RecordResponseAsync(JsonRpcMessage message, PendingToolCall call, RequestId id, CancellationToken cancellationToken)
        {
            var result = (message as JsonRpcResponse)?.Result;
            var error = message is JsonRpcError e ? JsonSerializer.SerializeToNode(e.Error, WireOptions.GetTypeInfo(typeof(JsonRpcErrorDetail))) : null;
            return await _session.RecordResponseAsync(call, result, error, cancellationToken).ConfigureAwait(false) is { } refusal
                ? new JsonRpcError { Id = id, Error = new JsonRpcErrorDetail { Code = ToolCallRefusedException.JsonRpcErrorCode, Message = ToolCallSession.ErrorMessage(refusal) } }
                : message;
        }

        private ValueTask WriteAsync(ReadOnlyMemory<byte> line, CancellationToken cancellationToken) => output.WriteAsync(line, cancellationToken);

        /// <summary>A response with the id replaced by the one the client sent, when the server echoed it in another form (<c>-0</c> as <c>0</c>).</summary>
        private static byte[] Serialize(JsonRpcMessage message, JsonNode? clientId)
        {
            if (clientId is null || (IdNode(((JsonRpcMessageWithId)message).Id)?.ToJsonString() == clientId.ToJsonString()))
            {
                return Serialize(message);
            }
            var node = JsonSerializer.SerializeToNode(message, MessageInfo)!.AsObject();
            node["id"] = clientId.DeepClone();
            return JsonRpcLines.Serialize(node, "\n"u8);
        }

        private static byte[] Serialize(JsonRpcMessage message)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(message, MessageInfo);
            var line = new byte[bytes.Length + 1];
            bytes.CopyTo(line, 0);
            line[^1] = (byte)'\n';
            return line;
        }

        private static JsonNode? IdNode(RequestId id) => id.Id switch
        {
            string s => JsonValue.Create(s),
            long n => JsonValue.Create(n),
            _ => null,
        };

        private static JsonObject ParseError(string reason) => new()
        {
            ["jsonrpc"] = "2.0",
            ["id"] = null,
            ["error"] = new JsonObject { ["code"] = -32700, ["message"] = "Parse error: " + reason },
        };

        private static JsonObject InvalidRequest(JsonNode? element) => new()
        {
            ["jsonrpc"] = "2.0",
            ["id"] = element is JsonObject o && o["id"] is JsonValue id ? id.DeepClone() : null,
            ["error"] = new JsonObject { ["code"] = -32600, ["message"] = "Invalid Request: not a JSON-RPC 2.0 message" },
        };
    }

    /// <summary>Tells the sender when the server has answered a message's POST with response headers.</summary>
    private sealed class PostObserver : DelegatingHandler
    {
        private TaskCompletionSource? _next;

        /// <summary>A task that completes when the next POST gets its response headers (or fails).</summary>
        public Task ExpectPost()
        {
            var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _next, next);
            return next.Task;
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // Only message POSTs are awaited; the SDK's GET (server stream) and DELETE (session end) are not.
            var waiter = request.Method == HttpMethod.Post ? Interlocked.Exchange(ref _next, null) : null;
            try
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                waiter?.TrySetResult();
            }
        }
    }
}
