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
    private readonly ToolCallRecorder _recorder;
    private readonly ILogger _logger;
    private readonly Channel<JsonRpcMessage> _incoming = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly PendingCalls<PendingCall> _calls = new();
    private readonly ConcurrentDictionary<Task, byte> _recordings = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private int _disposed;

    public SigningSessionTransport(ITransport inner, ToolCallRecorder recorder, ILoggerFactory? loggerFactory)
    {
        _inner = inner;
        _recorder = recorder;
        _logger = (ILogger?)loggerFactory?.CreateLogger<SigningTransport>() ?? NullLogger.Instance;
        _pump = Task.Run(PumpAsync);
    }

    public string? SessionId => _inner.SessionId;

    public ChannelReader<JsonRpcMessage> MessageReader => _incoming.Reader;

    public async Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        switch (message)
        {
            case JsonRpcRequest { Method: RequestMethods.ToolsCall } request:
                if (ToolCallMessage.ParamsProblem(request.Params) is not { } problem)
                {
                    await SendToolCallAsync(request, (JsonObject)request.Params!, cancellationToken).ConfigureAwait(false);
                    return;
                }
                if (!FailOpen)
                {
                    var refusal = $"Signet refused tools/call {CallIdOf(request.Id)}: the tools/call cannot be signed: {problem}. Nothing was sent.";
                    LogCallRefused(_logger, refusal);
                    throw new McpProtocolException(refusal, (McpErrorCode)ToolCallRefusedException.JsonRpcErrorCode);
                }
                LogForwardedUnsigned(_logger, CallIdOf(request.Id), problem);
                break;
            case JsonRpcNotification { Method: RequestMethods.ToolsCall } notification:
                {
                    // No id, so no error can reach the caller: the call is dropped, logged, and its refusal recorded.
                    var reason = "the tools/call cannot be signed: it has no id (it was sent as a notification), so it cannot be answered or matched with its receipt";
                    if (FailOpen)
                    {
                        LogForwardedUnsigned(_logger, "(no id)", reason);
                        break;
                    }
                    LogNotificationCallDropped(_logger, reason);
                    if (notification.Params is JsonObject callParams && ToolCallMessage.ParamsProblem(callParams) is null)
                    {
                        await _recorder.OnRefusedAsync(callParams, null, _inner.SessionId, reason, cancellationToken).ConfigureAwait(false);
                    }
                    return;
                }
            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                if (CancelledRequestId(cancelled.Params) is { } id && _calls.TryTake(CallIdOf(id), out _, out var call))
                {
                    _recorder.Forget(call.CallId, call.SessionId);
                }
                break;
        }
        await _inner.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private bool FailOpen => _recorder.Options.FailureMode == RecordingFailureMode.FailOpen;

    private async Task SendToolCallAsync(JsonRpcRequest request, JsonObject callParams, CancellationToken cancellationToken)
    {
        var call = new PendingCall(CallIdOf(request.Id), _inner.SessionId, request.Id);
        // Registered before the request leaves, so a fast response always finds it.
        _calls.Add(call.CallId, call);
        try
        {
            await _recorder.OnRequestAsync(callParams, call.CallId, call.SessionId, cancellationToken).ConfigureAwait(false);
        }
        catch (ToolCallRefusedException e)
        {
            _calls.TryRemove(call.CallId, out _);
            throw new McpProtocolException(e.Message, e, (McpErrorCode)ToolCallRefusedException.JsonRpcErrorCode);
        }
        catch
        {
            _calls.TryRemove(call.CallId, out _);
            throw;
        }

        try
        {
            await _inner.SendMessageAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (_calls.TryRemove(call.CallId, out _))
            {
                _recorder.Forget(call.CallId, call.SessionId);
            }
            throw;
        }
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
                            && _calls.TryTake(CallIdOf(((JsonRpcMessageWithId)message).Id), out _, out var call))
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
        foreach (var callId in _calls.CallIds)
        {
            if (_calls.TryRemove(callId, out var call))
            {
                _recorder.Forget(call.CallId, call.SessionId);
            }
        }
        _incoming.Writer.TryComplete(failure);
    }

    private async Task RecordAndDeliverAsync(JsonRpcMessage message, PendingCall call)
    {
        // A server that echoed the id in another form (2^53+1 as 2^53) is answered with the id the caller sent.
        message = WithId(message, call.Id);
        var deliver = message;
        try
        {
            if (message is JsonRpcResponse response)
            {
                await _recorder.OnResponseAsync(call.CallId, call.SessionId, response.Result, null, _stop.Token).ConfigureAwait(false);
            }
            else
            {
                var error = (JsonRpcError)message;
                var errorNode = JsonSerializer.SerializeToNode(error.Error, ErrorDetailType);
                await _recorder.OnResponseAsync(call.CallId, call.SessionId, null, errorNode, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (ToolCallRefusedException e)
        {
            deliver = Refusal(message, e.Message);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            // Never leave the caller waiting: an unexpected recording failure becomes an error for that call.
            LogPumpFailure(_logger, e.Message);
            deliver = Refusal(message, $"Signet could not record the response to this tools/call: {e.Message}");
        }
        _incoming.Writer.TryWrite(deliver);
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

    private static string CallIdOf(RequestId id) => id.Id switch
    {
        string s => CallId.From(s),
        long n => CallId.From(n),
        _ => CallId.From(id.ToString()),
    };

    private static RequestId? CancelledRequestId(JsonNode? parameters)
    {
        if ((parameters as JsonObject)?["requestId"] is not JsonValue value)
        {
            return null;
        }
        try
        {
            if (value.GetValueKind() == JsonValueKind.String)
            {
                return new RequestId(value.GetValue<string>());
            }
            return value.TryGetValue<long>(out var n) ? new RequestId(n) : null;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            // A requestId that cannot be read (bytes that are not UTF-8) cancels nothing; the message goes on as it is.
            return null;
        }
    }

    private static readonly JsonTypeInfo<JsonRpcErrorDetail> ErrorDetailType =
        (JsonTypeInfo<JsonRpcErrorDetail>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcErrorDetail));

    private sealed record PendingCall(string CallId, string? SessionId, RequestId Id);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording a tools/call response failed: {Reason}")]
    private static partial void LogPumpFailure(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}")]
    private static partial void LogCallRefused(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signet dropped a tools/call sent as a notification (no id, so no error can be returned): {Cause}")]
    private static partial void LogNotificationCallDropped(ILogger logger, string cause);

    [LoggerMessage(Level = LogLevel.Critical, Message = "FAIL-OPEN: tools/call {CallId} sent WITHOUT a receipt: {Cause}")]
    private static partial void LogForwardedUnsigned(ILogger logger, string callId, string cause);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A message from the server could not be inspected and is delivered as it came: {Reason}")]
    private static partial void LogMessageNotInspected(ILogger logger, string reason);
}
