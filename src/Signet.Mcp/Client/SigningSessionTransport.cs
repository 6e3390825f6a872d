using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Signet.Mcp.Recording;

namespace Signet.Mcp.Client;

/// <summary>
/// One connection of a <see cref="SigningTransport"/>: outgoing <c>tools/call</c> requests are recorded before they
/// are sent; a pump over the inner reader records each response before delivering it.
/// </summary>
internal sealed partial class SigningSessionTransport : ITransport
{
    private readonly ITransport _inner;
    private readonly ToolCallSession _session;
    private readonly ILogger _logger;
    private readonly Channel<JsonRpcMessage> _incoming = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly ConcurrentDictionary<Task, byte> _recordings = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private int _disposed;

    public SigningSessionTransport(ITransport inner, ToolCallRecorder recorder)
    {
        _inner = inner;
        _logger = (ILogger?)recorder.Options.LoggerFactory?.CreateLogger<SigningTransport>() ?? NullLogger.Instance;
        _session = new ToolCallSession(recorder, inner.SessionId, _logger);
        _pump = Task.Run(PumpAsync);
    }

    public string? SessionId => _inner.SessionId;

    public ChannelReader<JsonRpcMessage> MessageReader => _incoming.Reader;

    public async Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        switch (message)
        {
            case JsonRpcRequest { Method: RequestMethods.ToolsCall } request:
                {
                    var start = await _session.StartAsync(true, IdNode(request.Id), request.Params is not null, request.Params, cancellationToken).ConfigureAwait(false);
                    switch (start.Verdict)
                    {
                        case ToolCallVerdict.Refuse:
                        case ToolCallVerdict.Drop:
                            {
                                var refusal = ToolCallSession.ErrorMessage(start.Reason!);
                                var refused = start.Exception is { } cause ? new ToolCallRefusedException(refusal, cause) : new ToolCallRefusedException(refusal);
                                throw new McpProtocolException(refusal, refused, (McpErrorCode)ToolCallRefusedException.JsonRpcErrorCode);
                            }
                        case ToolCallVerdict.Forward:
                            // Registered before the request leaves, so a fast response always finds it.
                            _session.Forwarded(start, request.Id);
                            try
                            {
                                await _inner.SendMessageAsync(request, cancellationToken).ConfigureAwait(false);
                            }
                            catch (McpException e) when (e is not McpProtocolException && e.Message.Contains("without a reply", StringComparison.Ordinal))
                            {
                                // Streamable HTTP: the server took the call but answered under another form of its id
                                // (2^53+1 as 2^53). That answer reaches the reader, where the session matches it by value
                                // and it goes back under the id sent; the call stays pending until then.
                                LogAnsweredUnderAnotherId(_logger, start.Label, e.Message);
                            }
                            catch
                            {
                                _session.Cancel(start.Id);
                                throw;
                            }
                            return;
                    }
                    break;
                }
            case JsonRpcNotification { Method: RequestMethods.ToolsCall } notification:
                {
                    // No id, so no error can reach the caller: the call is dropped (logged, and its refusal recorded), unless fail-open.
                    var start = await _session.StartAsync(false, null, notification.Params is not null, notification.Params, cancellationToken).ConfigureAwait(false);
                    if (start.Verdict != ToolCallVerdict.ForwardAsSent)
                    {
                        return;
                    }
                    break;
                }
            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                _session.Cancel((cancelled.Params as JsonObject)?["requestId"]);
                break;
        }
        await _inner.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private async Task PumpAsync()
    {
        Exception? failure = null;
        var reader = _inner.MessageReader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var message))
                {
                    try
                    {
                        if (message is JsonRpcResponse or JsonRpcError
                            && _session.TryTakeResponse(IdNode(((JsonRpcMessageWithId)message).Id), out var call))
                        {
                            // Responses are recorded concurrently, so durable appends can share a flush; each is delivered
                            // only once its receipt is stored.
                            var recording = RecordAndDeliverAsync(message, call);
                            if (!recording.IsCompleted)
                            {
                                _recordings.TryAdd(recording, 0);
                                _ = recording.ContinueWith(static (t, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _),
                                    _recordings, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                            }
                            continue;
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // One message never ends the connection: it is delivered as it came.
                        LogMessageNotInspected(_logger, e.Message);
                    }
                    _incoming.Writer.TryWrite(message);
                }
            }
            await reader.Completion.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            failure = e;
        }

        try
        {
            await Task.WhenAll(_recordings.Keys).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogPumpFailure(_logger, e.Message);
        }
        // The SDK client fails its own waiting requests when the reader completes; the session only forgets them.
        _session.End("the connection closed");
        _incoming.Writer.TryComplete(failure);
    }

    private async Task RecordAndDeliverAsync(JsonRpcMessage message, PendingToolCall call)
    {
        // A server that echoed the id in another form (2^53+1 as 2^53) is answered with the id the caller sent.
        message = WithId(message, (RequestId)call.State!);
        string? refusal;
        try
        {
            refusal = message is JsonRpcResponse response
                ? await _session.RecordResponseAsync(call, response.Result, null, _stop.Token).ConfigureAwait(false)
                : await _session.RecordResponseAsync(call, null, JsonSerializer.SerializeToNode(((JsonRpcError)message).Error, ErrorDetailType), _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        _incoming.Writer.TryWrite(refusal is null ? message : Refusal(message, ToolCallSession.ErrorMessage(refusal)));
    }

    private static JsonRpcMessage WithId(JsonRpcMessage message, RequestId id) => message switch
    {
        JsonRpcResponse r when !r.Id.Equals(id) => new JsonRpcResponse { Id = id, Result = r.Result, Context = r.Context },
        JsonRpcError e when !e.Id.Equals(id) => new JsonRpcError { Id = id, Error = e.Error, Context = e.Context },
        _ => message,
    };

    private static JsonRpcError Refusal(JsonRpcMessage message, string reason) => new()
    {
        Id = ((JsonRpcMessageWithId)message).Id,
        Error = new JsonRpcErrorDetail { Code = ToolCallRefusedException.JsonRpcErrorCode, Message = reason },
        Context = message.Context,
    };

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            await _inner.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _pump.ConfigureAwait(false);
            _stop.Dispose();
        }
    }

    /// <summary>The SDK's id as a JSON value: the session encodes it (<c>n:</c>/<c>s:</c>) as it does every other mode's.</summary>
    private static JsonNode IdNode(RequestId id) => id.Id switch
    {
        string s => JsonValue.Create(s),
        long n => JsonValue.Create(n),
        _ => JsonValue.Create(id.ToString()),
    };

    private static readonly JsonTypeInfo<JsonRpcErrorDetail> ErrorDetailType =
        (JsonTypeInfo<JsonRpcErrorDetail>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcErrorDetail));

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server answered tools/call {CallId} under another form of its id; it is matched by value: {Reason}")]
    private static partial void LogAnsweredUnderAnotherId(ILogger logger, string callId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording a tools/call response failed: {Reason}")]
    private static partial void LogPumpFailure(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A message from the server could not be inspected and is delivered as it came: {Reason}")]
    private static partial void LogMessageNotInspected(ILogger logger, string reason);
}
