using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using Signet.Diagnostics;

namespace Signet.Audit;

/// <summary>
/// The group-commit writer in front of an <see cref="AuditChain"/>: durable appends share one write and one fsync per
/// round, deferred appends are written by their caller and fsynced later, and a timer fsyncs those at the latest.
/// </summary>
/// <remarks>
/// The first durable append queued while no round is scheduled schedules one on the thread pool
/// (<c>_roundScheduled</c>, under <c>_queueLock</c>); a round writes everything queued with one write, fsyncs once,
/// and completes those appends. When more appends were queued meanwhile (appends keep coming while each fsync runs),
/// the rounds go on on the writer's own round thread, so that a steady load does not keep a pool thread blocked in
/// fsync for as long as it lasts. At most one round runs at a time, so at most one thread is blocked in an fsync, and
/// no caller's thread ever is; when a pool round leaves nobody else waiting, the last caller's continuation runs on
/// that thread (no thread hop back for a caller that appends one receipt at a time). Thread-safe.
/// </remarks>
internal sealed class AuditGroupCommit
{
    private readonly AuditChain _chain;
    private readonly int _maxBatchSize;
    private readonly object _queueLock = new();
    private readonly TaskCompletionSource _roundsDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _roundThreadLock = new();
    private readonly SemaphoreSlim _roundThreadSignal = new(0);
    private readonly ITimer _flushTimer;
    private List<PendingRecord> _queue = [];
    private bool _closing;
    private bool _roundScheduled;
    private Thread? _roundThread;
    private volatile bool _roundThreadStop;

    /// <summary>Starts the writer and its flush timer (every <see cref="AuditLogOptions.FastFlushInterval"/>).</summary>
    public AuditGroupCommit(AuditChain chain, AuditLogOptions options)
    {
        _chain = chain;
        _maxBatchSize = options.MaxBatchSize;
        // Fast-mode appends, and deferred appends in durable mode, are fsynced on this timer at the latest.
        _flushTimer = options.TimeProvider.CreateTimer(static s => ((AuditChain)s!).FlushOnTimer(), chain,
            options.FastFlushInterval, options.FastFlushInterval);
    }

    /// <summary>Queues a record for the next round; completes once a round wrote and fsynced it.</summary>
    public ValueTask<AuditAppendResult> AppendDurable(byte[] json, byte[] canonical, CancellationToken ct)
    {
        var pending = new DurableAppend(json, canonical);
        if (ct.CanBeCanceled)
        {
            // Before the append is queued, so that the round that completes it always finds the registration to undo.
            pending.CancelWaitOn(ct);
        }
        bool queued, schedule = false;
        lock (_queueLock)
        {
            queued = !_closing;
            if (queued)
            {
                _queue.Add(pending);
                schedule = !_roundScheduled;
                _roundScheduled = true;
            }
        }
        if (!queued)
        {
            pending.Complete(null, new ObjectDisposedException(nameof(AuditLog), "the audit log is closed"), inline: false);
        }
        else if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.RunRounds(onRoundThread: false), this, preferLocal: true);
        }
        return new ValueTask<AuditAppendResult>(pending, 0);
    }

    /// <summary>Writes a record on the calling thread, now, with no fsync (the next round, the timer or close does it).</summary>
    public ValueTask<AuditAppendResult> AppendDeferred(byte[] json, byte[] canonical)
    {
        var pending = new PendingRecord(json, canonical);
        AuditAppendResult result = null!; // filled by Write, or it throws
        try
        {
            _chain.Write(new ReadOnlySpan<PendingRecord>(ref pending), new Span<AuditAppendResult>(ref result));
        }
        catch (Exception e) when (e is AuditLogFailedException or ObjectDisposedException)
        {
            return ValueTask.FromException<AuditAppendResult>(e);
        }
        return ValueTask.FromResult(result);
    }

    /// <summary>Refuses new durable appends, waits for the queued ones to be written, and stops the round thread and the timer.</summary>
    public async Task CloseAsync()
    {
        lock (_queueLock)
        {
            if (!_closing)
            {
                _closing = true;
                if (!_roundScheduled)
                {
                    _roundsDone.TrySetResult();
                }
            }
        }
        await _roundsDone.Task.ConfigureAwait(false);
        StopRoundThread();
        await _flushTimer.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Runs rounds until the queue is empty (the caller scheduled this while setting <c>_roundScheduled</c>).
    /// <paramref name="onRoundThread"/>: false for the pool round an append scheduled, true on the round thread.
    /// </summary>
    private void RunRounds(bool onRoundThread)
    {
        while (true)
        {
            List<PendingRecord> batch;
            lock (_queueLock)
            {
                batch = _queue;
                // A new list, not a spare one: the batch is still being completed when the next round may start.
                _queue = [];
            }
            var failure = WriteAndSync(batch);
            bool more;
            lock (_queueLock)
            {
                more = _queue.Count > 0;
                if (!more)
                {
                    _roundScheduled = false;
                    if (_closing)
                    {
                        _roundsDone.TrySetResult();
                    }
                }
            }
            // With more appends queued, every continuation goes to the thread pool. When a pool round emptied the
            // queue, the last caller's continuation runs on its thread: a caller that appends one receipt at a time
            // pays no thread hop on the way back. The round thread never runs a caller's code.
            Complete(batch, failure, lastInline: !more && !onRoundThread);
            if (!more)
            {
                return;
            }
            if (!onRoundThread)
            {
                HandOverRounds();
                return;
            }
        }
    }

    /// <summary>Lets the round thread (started on first use) run the rounds that follow; <c>_roundScheduled</c> stays set.</summary>
    private void HandOverRounds()
    {
        lock (_roundThreadLock)
        {
            if (_roundThread is null)
            {
                // A background thread: a log that is never disposed must not keep the process alive.
                _roundThread = new Thread(static s => ((AuditGroupCommit)s!).RoundThreadLoop())
                {
                    IsBackground = true,
                    Name = "Signet audit rounds",
                };
                _roundThread.UnsafeStart(this);
            }
        }
        _roundThreadSignal.Release();
    }

    private void RoundThreadLoop()
    {
        while (true)
        {
            _roundThreadSignal.Wait();
            if (_roundThreadStop)
            {
                return;
            }
            RunRounds(onRoundThread: true);
        }
    }

    /// <summary>Ends the round thread, if one was started (after the last round: <c>_roundsDone</c> is set).</summary>
    private void StopRoundThread()
    {
        lock (_roundThreadLock)
        {
            _roundThreadStop = true;
            if (_roundThread is null)
            {
                return;
            }
        }
        _roundThreadSignal.Release();
    }

    /// <summary>Writes a batch and fsyncs everything written so far; returns the failure (also kept by the chain), if any.</summary>
    private AuditLogFailedException? WriteAndSync(List<PendingRecord> batch)
    {
        try
        {
            for (var start = 0; start < batch.Count; start += _maxBatchSize)
            {
                var records = CollectionsMarshal.AsSpan(batch).Slice(start, Math.Min(_maxBatchSize, batch.Count - start));
                var results = new AuditAppendResult[records.Length];
                _chain.Write(records, results);
                for (var i = 0; i < records.Length; i++)
                {
                    ((DurableAppend)records[i]).Result = results[i];
                }
            }
            _chain.SyncWritten();
            SignetTelemetry.GroupCommitSize.Record(batch.Count);
            return null;
        }
        catch (AuditLogFailedException e)
        {
            return e;
        }
        catch (Exception e)
        {
            return _chain.Fail($"the audit log in {_chain.Directory} could not be appended to", e);
        }
    }

    /// <summary>Completes a batch's appends: all with their results, or, when its write or fsync failed, all with the failure.</summary>
    private static void Complete(List<PendingRecord> batch, AuditLogFailedException? failure, bool lastInline)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var append = (DurableAppend)batch[i];
            var inline = lastInline && i == batch.Count - 1;
            if (failure is null)
            {
                append.Complete(append.Result, null, inline);
            }
            else
            {
                append.Complete(null, failure, inline);
            }
        }
    }

    /// <summary>A durable append in flight; completed by the round that wrote and fsynced it.</summary>
    private sealed class DurableAppend(byte[] json, byte[] canonical) : PendingRecord(json, canonical), IValueTaskSource<AuditAppendResult>
    {
        private ManualResetValueTaskSourceCore<AuditAppendResult> _core = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenRegistration _cancellation;
        private ManualResetEventSlim? _waiter;
        private int _completed;

        public AuditAppendResult? Result { get; set; }

        /// <summary>Cancelling stops the wait only: the record is still written.</summary>
        public void CancelWaitOn(CancellationToken ct) =>
            _cancellation = ct.UnsafeRegister(static (s, token) => ((DurableAppend)s!).Complete(null, new OperationCanceledException(token), inline: false), this);

        /// <summary>
        /// Completes the wait once. <paramref name="inline"/>: the continuation may run on this thread (one registered
        /// after completion, or one with a captured context, is still queued).
        /// </summary>
        public void Complete(AuditAppendResult? result, Exception? error, bool inline)
        {
            if (Interlocked.Exchange(ref _completed, 1) != 0)
            {
                return;
            }
            _cancellation.Unregister();
            _core.RunContinuationsAsynchronously = !inline;
            if (error is null)
            {
                _core.SetResult(result!);
            }
            else
            {
                _core.SetException(error);
            }
            // A full fence, so that a reader that published its event before its last look at the status is woken.
            Interlocked.CompareExchange(ref _waiter, null, null)?.Set();
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        public AuditAppendResult GetResult(short token)
        {
            // Awaiting never gets here before completion; a caller that reads the result without awaiting
            // (sync-over-async) sleeps on an event until the round completes it.
            if (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
            {
                var waiter = new ManualResetEventSlim(false);
                if (Interlocked.CompareExchange(ref _waiter, waiter, null) is { } other)
                {
                    waiter.Dispose();
                    waiter = other;
                }
                // Published before this second look, and Complete sets the event after completing: no wake-up is lost.
                if (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
                {
                    waiter.Wait();
                }
            }
            return _core.GetResult(token);
        }
    }
}
