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
/// are sent; each response is recorded as the client reads it, before it is delivered.
/// </summary>
/// <remarks>
/// The client's reader reads through to the inner transport's reader (no pump, no extra thread hop): a response to a
/// recorded call is recorded on the reading thread when the recording completes synchronously (signing, and a fast or
/// deferred audit append); when it has to wait (a durable append), other messages keep flowing and the response is
/// delivered once its receipt is stored.
/// </remarks>
internal sealed partial class SigningSessionTransport : ITransport
{
    private readonly ITransport _inner;
    private readonly ToolCallRecorder _recorder;
    private readonly ILogger _logger;
    // Responses whose recording finished asynchronously, waiting to be read.
    private readonly Channel<JsonRpcMessage> _recorded = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly ConcurrentDictionary<RequestId, PendingCall> _calls = new();
    private readonly ConcurrentDictionary<Task, byte> _recordings = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly RecordingReader _reader;
    private int _disposed;

    public SigningSessionTransport(ITransport inner, ToolCallRecorder recorder, ILoggerFactory? loggerFactory)
    {
        _inner = inner;
        _recorder = recorder;
        _logger = (ILogger?)loggerFactory?.CreateLogger<SigningTransport>() ?? NullLogger.Instance;
        _reader = new RecordingReader(this);
    }

    public string? SessionId => _inner.SessionId;

    public ChannelReader<JsonRpcMessage> MessageReader => _reader;

    public async Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        switch (message)
        {
            case JsonRpcRequest { Method: RequestMethods.ToolsCall, Params: JsonObject callParams } request:
                await SendToolCallAsync(request, callParams, cancellationToken).ConfigureAwait(false);
                return;
            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                if (CancelledRequestId(cancelled.Params) is { } id && _calls.TryRemove(id, out var call))
                {
                    _recorder.Forget(call.CallId, call.SessionId);
                }
                break;
        }
        await _inner.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendToolCallAsync(JsonRpcRequest request, JsonObject callParams, CancellationToken cancellationToken)
    {
        var call = new PendingCall(CallIdOf(request.Id), _inner.SessionId);
        // Registered before the request leaves, so a fast response always finds it.
        _calls[request.Id] = call;
        try
        {
            await _recorder.OnRequestAsync(callParams, call.CallId, call.SessionId, cancellationToken).ConfigureAwait(false);
        }
        catch (ToolCallRefusedException e)
        {
            _calls.TryRemove(request.Id, out _);
            throw new McpProtocolException(e.Message, e, (McpErrorCode)ToolCallRefusedException.JsonRpcErrorCode);
        }
        catch
        {
            _calls.TryRemove(request.Id, out _);
            throw;
        }

        try
        {
            await _inner.SendMessageAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (_calls.TryRemove(request.Id, out _))
            {
                _recorder.Forget(call.CallId, call.SessionId);
            }
            throw;
        }
    }

    /// <summary>
    /// What the reader hands on for a message from the server: the message itself, or for a response to a recorded call
    /// the response once recorded (or the error that replaces it). Null when the message is not delivered now: its
    /// recording goes on in the background and delivers it through <see cref="_recorded"/>, or the session is stopping.
    /// </summary>
    private JsonRpcMessage? Intercept(JsonRpcMessage message)
    {
        if (message is not (JsonRpcResponse or JsonRpcError) || !_calls.TryRemove(((JsonRpcMessageWithId)message).Id, out var call))
        {
            return message;
        }
        var recording = RecordAsync(message, call);
        if (recording.IsCompletedSuccessfully)
        {
            return recording.Result;
        }
        var task = recording.AsTask();
        _recordings.TryAdd(task, 0);
        _ = task.ContinueWith(static (t, state) =>
        {
            var self = (SigningSessionTransport)state!;
            // Delivered before it stops counting as in flight, so a reader that saw no recordings sees the message.
            if (t.IsCompletedSuccessfully && t.Result is { } deliver)
            {
                self._recorded.Writer.TryWrite(deliver);
            }
            self._recordings.TryRemove(t, out _);
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return null;
    }

    private async ValueTask<JsonRpcMessage?> RecordAsync(JsonRpcMessage message, PendingCall call)
    {
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
            return message;
        }
        catch (ToolCallRefusedException e)
        {
            return Refusal(message, e.Message);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e)
        {
            // Never leave the caller waiting: an unexpected recording failure becomes an error for that call.
            LogPumpFailure(_logger, e);
            return Refusal(message, $"Signet could not record the response to this tools/call: {e.Message}");
        }
    }

    /// <summary>The inner reader has completed: let recordings in flight finish, and forget calls that got no response.</summary>
    private async Task DrainAsync()
    {
        try
        {
            await Task.WhenAll(_recordings.Keys).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogPumpFailure(_logger, e);
        }
        foreach (var (id, call) in _calls)
        {
            if (_calls.TryRemove(id, out _))
            {
                _recorder.Forget(call.CallId, call.SessionId);
            }
        }
    }

    /// <summary>The reader the client sees: reads through to the inner reader, recording responses on the way.</summary>
    private sealed class RecordingReader(SigningSessionTransport owner) : ChannelReader<JsonRpcMessage>
    {
        private readonly ChannelReader<JsonRpcMessage> _inner = owner._inner.MessageReader;
        private Task? _completion;

        /// <summary>Completes (or faults) as the inner reader does, once responses still being recorded have been delivered.</summary>
        public override Task Completion => LazyInitializer.EnsureInitialized(ref _completion, CompleteAfterInnerAsync);

        private async Task CompleteAfterInnerAsync()
        {
            try
            {
                await _inner.Completion.ConfigureAwait(false);
            }
            finally
            {
                await owner.DrainAsync().ConfigureAwait(false);
            }
        }

        public override bool TryRead([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out JsonRpcMessage item)
        {
            if (owner._recorded.Reader.TryRead(out item))
            {
                return true;
            }
            while (_inner.TryRead(out var message))
            {
                if (owner.Intercept(message) is { } deliver)
                {
                    item = deliver;
                    return true;
                }
            }
            item = null;
            return false;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            // Recordings first, then the queue: a recording that ends in between has already queued its message.
            if (owner._recordings.IsEmpty)
            {
                if (owner._recorded.Reader.TryPeek(out _))
                {
                    return new ValueTask<bool>(true);
                }
                var wait = _inner.WaitToReadAsync(cancellationToken);
                return wait.IsCompletedSuccessfully && wait.Result ? wait : AwaitInnerAsync(wait);
            }
            return owner._recorded.Reader.TryPeek(out _) ? new ValueTask<bool>(true) : AwaitEitherAsync(cancellationToken);
        }

        private async ValueTask<bool> AwaitInnerAsync(ValueTask<bool> wait)
        {
            Exception? failure = null;
            try
            {
                if (await wait.ConfigureAwait(false))
                {
                    return true;
                }
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception e)
            {
                failure = e;
            }
            // The server side is done: what is still being recorded is delivered before the end is reported.
            await owner.DrainAsync().ConfigureAwait(false);
            if (owner._recorded.Reader.TryPeek(out _))
            {
                return true;
            }
            if (failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
            return false;
        }

        private async ValueTask<bool> AwaitEitherAsync(CancellationToken cancellationToken)
        {
            var inner = _inner.WaitToReadAsync(cancellationToken).AsTask();
            var recorded = owner._recorded.Reader.WaitToReadAsync(cancellationToken).AsTask();
            await Task.WhenAny(inner, recorded).ConfigureAwait(false);
            if (recorded.IsCompletedSuccessfully && recorded.Result)
            {
                return true;
            }
            return await AwaitInnerAsync(new ValueTask<bool>(inner)).ConfigureAwait(false);
        }
    }

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
            await DrainAsync().ConfigureAwait(false);
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
        if (value.GetValueKind() == JsonValueKind.String)
        {
            return new RequestId(value.GetValue<string>());
        }
        return value.TryGetValue<long>(out var n) ? new RequestId(n) : null;
    }

    private static readonly JsonTypeInfo<JsonRpcErrorDetail> ErrorDetailType =
        (JsonTypeInfo<JsonRpcErrorDetail>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcErrorDetail));

    private sealed record PendingCall(string CallId, string? SessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording a tools/call response failed")]
    private static partial void LogPumpFailure(ILogger logger, Exception exception);
}
