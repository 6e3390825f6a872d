using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Signet.Bridge.Backends;
using Signet.Bridge.JsonRpc;

namespace Signet.Bridge.Sessions;

/// <summary>
/// One MCP session over HTTP, served by its own stdio child. The client's JSON-RPC ids go to the child unchanged
/// (one client per session); answers are routed back to the POST that asked, progress by its token, and other
/// server messages to the GET stream (or, while none is open, to the newest open POST stream, else a bounded backlog).
/// </summary>
internal sealed class StdioSession : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Pending> pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ResponseStream> progress = new(StringComparer.Ordinal);
    private readonly object gate = new();
    private readonly List<ResponseStream> postStreams = new();
    private readonly Queue<byte[]> backlog = new();
    private readonly BridgeLimits limits;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly TaskCompletionSource<string> ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ResponseStream? getStream;
    private StdioChild? child;
    private long lastActivity;
    private int disposed;

    private sealed record Pending(ResponseStream Stream, string? CallId, string? ProgressKey);

    public StdioSession(string id, BridgeBackend backend, BridgeLimits limits, TimeProvider time, ILogger logger)
    {
        Id = id;
        Backend = backend;
        this.limits = limits;
        this.time = time;
        this.logger = logger;
        lastActivity = time.GetTimestamp();
    }

    public string Id { get; }

    public BridgeBackend Backend { get; }

    /// <summary>The child's process id (for logs and tests).</summary>
    public int ChildProcessId { get; private set; }

    /// <summary>Completes once the child process has exited and been reaped.</summary>
    public Task Stopped => stopped.Task;

    /// <summary>Completes with the reason when the session has ended.</summary>
    public Task<string> Ended => ended.Task;

    /// <summary>True when no request is waiting for its answer.</summary>
    public bool IsQuiet => pending.IsEmpty;

    /// <summary>How long since the last message in either direction.</summary>
    public TimeSpan IdleFor => time.GetElapsedTime(Interlocked.Read(ref lastActivity));

    /// <summary>Starts the child process. Called once, right after construction.</summary>
    public void Start()
    {
        child = StdioChild.Start(Backend.Options, OnBackendLineAsync, reason => ThreadPool.QueueUserWorkItem(_ => _ = EndAsync(reason)), limits, logger);
        ChildProcessId = child.ProcessId;
        BridgeLog.SessionOpened(logger, Id, Backend.Name, ChildProcessId);
    }

    /// <summary>
    /// Forwards a POST's messages to the child, signing each tools/call first. Returns the stream that carries the
    /// answers, or null when the POST held no requests (202).
    /// </summary>
    public async Task<ResponseStream?> SubmitAsync(IReadOnlyList<RpcMessage> messages, CancellationToken cancellationToken)
    {
        Touch();
        var requests = messages.Count(m => m.Kind == RpcKind.Request);
        var stream = requests > 0 ? new ResponseStream(requests, isGetStream: false) : null;
        if (stream is not null)
        {
            lock (gate)
            {
                postStreams.Add(stream);
            }
        }
        foreach (var message in messages)
        {
            if (ended.Task.IsCompleted)
            {
                if (message.Kind == RpcKind.Request)
                {
                    stream!.Answer(RpcMessage.Error(message.IdKey, -32603, "The session's tool server has stopped: " + ended.Task.Result));
                }
                continue;
            }
            var line = message.Raw;
            if (message.Kind == RpcKind.Request)
            {
                var callId = message.IsToolCall ? Mcp.CallId.From(RpcMessage.IdNode(message.IdKey)) : null;
                if (!pending.TryAdd(message.IdKey!, new Pending(stream!, callId, message.ProgressTokenKey)))
                {
                    stream!.Answer(RpcMessage.Error(message.IdKey, -32600, "A request with this id is already in flight in this session"));
                    continue;
                }
                if (message.ProgressTokenKey is { } token)
                {
                    progress[token] = stream!;
                }
                if (message.IsToolCall)
                {
                    var signed = await CallSigner.SignAsync(message, Backend.Recorder, Id, logger, cancellationToken,
                        refusal => Answer(message.IdKey!, refusal)).ConfigureAwait(false);
                    if (signed is null)
                    {
                        continue;
                    }
                    line = signed;
                }
            }
            if (logger.IsEnabled(LogLevel.Trace))
            {
                BridgeLog.PayloadSensitive(logger, Id, "client->server", Encoding.UTF8.GetString(line));
            }
            try
            {
                await child!.WriteLineAsync(line, cancellationToken).ConfigureAwait(false);
            }
            catch (SignetException e)
            {
                if (message.Kind == RpcKind.Request)
                {
                    AnswerWithError(message.IdKey!, -32603, e.Message);
                }
                _ = EndAsync(e.Message);
            }
        }
        return stream;
    }

    /// <summary>Opens the server-to-client stream; null when one is already open (409).</summary>
    public ResponseStream? OpenGetStream()
    {
        Touch();
        lock (gate)
        {
            if (getStream is { IsOpen: true } || ended.Task.IsCompleted)
            {
                return null;
            }
            getStream = new ResponseStream(int.MaxValue, isGetStream: true);
            while (backlog.TryDequeue(out var message))
            {
                getStream.TrySend(message);
            }
            return getStream;
        }
    }

    /// <summary>Marks an HTTP response as gone: its stream takes no more server messages.</summary>
    public void Detach(ResponseStream stream)
    {
        stream.Close();
        lock (gate)
        {
            postStreams.Remove(stream);
            if (ReferenceEquals(getStream, stream))
            {
                getStream = null;
            }
        }
    }

    private async ValueTask OnBackendLineAsync(ReadOnlyMemory<byte> line)
    {
        Touch();
        var message = RpcMessage.ParseLine(line.Span);
        if (message is null)
        {
            BridgeLog.BadBackendLine(logger, Backend.Name);
            return;
        }
        if (logger.IsEnabled(LogLevel.Trace))
        {
            BridgeLog.PayloadSensitive(logger, Id, "server->client", Encoding.UTF8.GetString(line.Span));
        }
        switch (message.Kind)
        {
            case RpcKind.Response when message.IdKey is { } id && pending.TryGetValue(id, out var waiting):
                var answer = waiting.CallId is { } callId
                    ? await CallSigner.RecordAnswerAsync(message, callId, Backend.Recorder, Id, logger, CancellationToken.None).ConfigureAwait(false)
                    : message.Raw;
                Answer(id, answer);
                break;
            case RpcKind.Notification when message.Method == "notifications/progress" && ProgressTarget(line.Span) is { } stream
                && stream.TrySend(message.Raw):
                break;
            default:
                RouteUnsolicited(message.Raw);
                break;
        }
    }

    private ResponseStream? ProgressTarget(ReadOnlySpan<byte> line)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(line.ToArray());
        if (doc.RootElement.TryGetProperty("params", out var p) && p.ValueKind == System.Text.Json.JsonValueKind.Object
            && p.TryGetProperty("progressToken", out var token))
        {
            var key = token.ValueKind switch
            {
                System.Text.Json.JsonValueKind.String => "s:" + token.GetString(),
                System.Text.Json.JsonValueKind.Number => "n:" + token.GetRawText(),
                _ => null,
            };
            return key is not null && progress.TryGetValue(key, out var stream) ? stream : null;
        }
        return null;
    }

    private void Answer(string idKey, byte[] response)
    {
        if (pending.TryRemove(idKey, out var waiting))
        {
            if (waiting.ProgressKey is { } token)
            {
                progress.TryRemove(token, out _);
            }
            waiting.Stream.Answer(response);
            if (!waiting.Stream.IsOpen)
            {
                lock (gate)
                {
                    postStreams.Remove(waiting.Stream);
                }
            }
        }
    }

    private void AnswerWithError(string idKey, int code, string message)
    {
        if (pending.TryGetValue(idKey, out var waiting) && waiting.CallId is { } callId)
        {
            Backend.Recorder.Forget(callId, Id);
        }
        Answer(idKey, RpcMessage.Error(idKey, code, message));
    }

    private void RouteUnsolicited(byte[] message)
    {
        lock (gate)
        {
            if (getStream is { } get && get.TrySend(message))
            {
                return;
            }
            for (var i = postStreams.Count - 1; i >= 0; i--)
            {
                if (postStreams[i].TrySend(message))
                {
                    return;
                }
                postStreams.RemoveAt(i);
            }
            backlog.Enqueue(message);
            if (backlog.Count > limits.MaxBacklogMessages)
            {
                backlog.Dequeue();
                BridgeLog.BacklogDropped(logger, Id);
            }
        }
    }

    private void Touch() => Interlocked.Exchange(ref lastActivity, time.GetTimestamp());

    /// <summary>Ends the session: answers what is still pending with an error, closes its streams and stops the child.</summary>
    public async Task EndAsync(string reason)
    {
        if (ended.TrySetResult(reason))
        {
            BridgeLog.SessionEnded(logger, Id, Backend.Name, reason);
            foreach (var id in pending.Keys.ToList())
            {
                AnswerWithError(id, -32603, "The session's tool server has stopped: " + reason);
            }
            lock (gate)
            {
                getStream?.Close();
                foreach (var stream in postStreams)
                {
                    stream.Close();
                }
                postStreams.Clear();
            }
        }
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            try
            {
                if (child is not null)
                {
                    await child.DisposeAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                stopped.TrySetResult();
            }
        }
        else
        {
            await stopped.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Ends the session because the bridge is stopping.</summary>
    public ValueTask DisposeAsync() => new(EndAsync("the bridge stopped"));
}
