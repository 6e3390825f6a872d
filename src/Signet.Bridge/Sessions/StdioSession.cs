using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Signet.Bridge.Hosting;
using Signet.Bridge.JsonRpc;
using Signet.Mcp.Recording;

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
    private readonly ToolCallSession tools;
    private ResponseStream? getStream;
    private ChildProcess? child;
    private long lastActivity;
    private int disposed;

    /// <summary>
    /// A request awaiting its answer, routed back to the HTTP response that asked. A signed tools/call's life (its
    /// receipt, cancellation, the session's end) is the <see cref="ToolCallSession"/>'s; this only routes.
    /// </summary>
    private sealed record Pending(ResponseStream Stream, PendingToolCall? Call, string? ProgressKey, byte[]? RawId);

    public StdioSession(string id, BridgeBackend backend, BridgeLimits limits, TimeProvider time, ILogger logger)
    {
        Id = id;
        Backend = backend;
        this.limits = limits;
        this.time = time;
        this.logger = logger;
        tools = new ToolCallSession(backend.Recorder, id, logger);
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
        var backend = Backend.Options;
        child = ChildProcess.Start(
            new ChildProcessOptions
            {
                Command = backend.Command!,
                Arguments = [.. backend.Args],
                WorkingDirectory = backend.WorkingDirectory,
                EnvironmentVariables = backend.Env.ToDictionary(e => e.Key, string? (e) => e.Value, StringComparer.Ordinal),
                ShutdownTimeout = limits.ChildShutdownTimeout,
                StandardError = ChildStandardError.Log,
                Label = $"backend '{backend.Name}'",
                CommandSource = $"the command of backend '{backend.Name}' in the bridge's configuration",
            },
            logger);
        ChildProcessId = child.Id;
        // Ending the session disposes the child, which waits for this reader: end it from another thread.
        _ = child.ReadLinesAsync(OnBackendLineAsync, limits.MaxBackendMessageBytes)
            .ContinueWith(read => ThreadPool.QueueUserWorkItem(_ => _ = EndAsync(read.IsCompletedSuccessfully ? read.Result : "reading its output failed: " + read.Exception?.GetBaseException().Message)), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        BridgeLog.SessionOpened(logger, Id, Backend.Name, ChildProcessId);
    }

    /// <summary>
    /// Forwards a POST's messages to the child, signing each tools/call first. Returns the stream that carries the
    /// answers, or null when the POST held nothing to answer (202). A tools/call that cannot be signed is answered with
    /// an error (or, in notification form, dropped) and never reaches the child, unless the backend fails open.
    /// </summary>
    public async Task<ResponseStream?> SubmitAsync(IReadOnlyList<RpcMessage> messages, CancellationToken cancellationToken)
    {
        Touch();
        var calls = new ToolCall?[messages.Count];
        var answered = new bool[messages.Count];
        var answers = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.IsToolCall)
            {
                var call = calls[i] = ToolCall.Read(message);
                // Refused calls with an id are answered here; forwarded ones are awaited when their id can be matched.
                answered[i] = call.Problem is null || (tools.FailsOpen ? message.Kind == RpcKind.Request : message.HasId);
            }
            else
            {
                answered[i] = message.Kind == RpcKind.Request;
            }
            answers += answered[i] ? 1 : 0;
        }
        var stream = answers > 0 ? new ResponseStream(answers, isGetStream: false) : null;
        if (stream is not null)
        {
            lock (gate)
            {
                postStreams.Add(stream);
            }
        }
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (ended.Task.IsCompleted)
            {
                if (answered[i])
                {
                    stream!.Answer(RpcMessage.Error(message.RawId, -32603, "The session's tool server has stopped: " + ended.Task.Result));
                }
                continue;
            }
            var line = message.Raw;
            var pendingKey = message.Kind == RpcKind.Request && answered[i] ? message.IdKey : null;
            if (pendingKey is not null)
            {
                if (!pending.TryAdd(pendingKey, new Pending(stream!, null, message.ProgressTokenKey, message.RawId)))
                {
                    stream!.Answer(RpcMessage.Error(message.RawId, -32600,
                        "A request with this id is already in flight in this session (numeric ids are compared by value, as the tool server reads them)"));
                    continue;
                }
                if (message.ProgressTokenKey is { } token)
                {
                    progress[token] = stream!;
                }
            }
            if (calls[i] is { } call)
            {
                var outcome = await CallSigner.SignAsync(call, tools, cancellationToken).ConfigureAwait(false);
                if (outcome.Forward is null)
                {
                    if (outcome.Refusal is { } refusal)
                    {
                        if (pendingKey is not null)
                        {
                            Answer(pendingKey, refusal);
                        }
                        else
                        {
                            stream!.Answer(refusal);
                        }
                    }
                    continue;
                }
                if (pendingKey is not null && tools.Forwarded(outcome.Start) is { } signed
                    && !(pending.TryGetValue(pendingKey, out var entry) && pending.TryUpdate(pendingKey, entry with { Call = signed }, entry)))
                {
                    // The session ended while the call was being signed, and the call has been answered with that error.
                    tools.TryTake(signed);
                    continue;
                }
                line = outcome.Forward;
            }
            if (message.CancelledKey is { } cancelled)
            {
                // Before the child reads it: an answer it sends anyway must find the call already let go.
                Cancel(cancelled);
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
                if (pendingKey is not null)
                {
                    AnswerWithError(pendingKey, -32603, e.Message);
                }
                _ = EndAsync(e.Message);
                continue;
            }
        }
        return stream;
    }

    /// <summary>The client cancelled a request (the child has been told): its answer is no longer awaited, nor recorded.</summary>
    private void Cancel(string idKey)
    {
        if (pending.TryRemove(idKey, out var waiting))
        {
            if (waiting.Call is { } call)
            {
                tools.TryTake(call);
            }
            if (waiting.ProgressKey is { } token)
            {
                progress.TryRemove(token, out _);
            }
            BridgeLog.Cancelled(logger, Id, idKey);
            waiting.Stream.Skip();
        }
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
        var message = RpcMessage.ParseLine(line.Span, out var problem);
        if (message is null)
        {
            // An answer that cannot be read still ends the wait of the call it answers; anything else is dropped.
            if (RpcMessage.PeekId(line.Span, out var isAnswer) is { } rawId && isAnswer
                && RpcId.MatchKey(rawId) is { } key && pending.TryGetValue(key, out var unreadable))
            {
                BridgeLog.BadBackendAnswer(logger, Backend.Name, Id, unreadable.Call?.CallId ?? key, problem!);
                AnswerWithError(key, -32603, $"The tool server's answer could not be read ({problem}); the call's outcome is unknown");
            }
            else
            {
                BridgeLog.BadBackendLine(logger, Backend.Name, Id, problem!);
            }
            return;
        }
        if (logger.IsEnabled(LogLevel.Trace))
        {
            BridgeLog.PayloadSensitive(logger, Id, "server->client", Encoding.UTF8.GetString(line.Span));
        }
        switch (message.Kind)
        {
            case RpcKind.Response when message.IdKey is { } id && pending.TryGetValue(id, out var waiting):
                var answer = waiting.Call is { } call && tools.TryTake(call)
                    ? await CallSigner.RecordAnswerAsync(message, call, waiting.RawId, tools, CancellationToken.None).ConfigureAwait(false)
                    : message.Raw;
                Answer(id, answer);
                break;
            case RpcKind.Notification when message.Method == "notifications/progress" && message.ProgressTokenKey is { } token
                && progress.TryGetValue(token, out var stream) && stream.TrySend(message.Raw):
                break;
            default:
                RouteUnsolicited(message.Raw);
                break;
        }
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
        pending.TryGetValue(idKey, out var waiting);
        if (waiting?.Call is { } call)
        {
            tools.TryTake(call);
        }
        Answer(idKey, RpcMessage.Error(waiting?.RawId, code, message));
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
            // Whatever was signed but is no longer routed (its answer came as the session ended) is let go too.
            tools.End(reason);
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
