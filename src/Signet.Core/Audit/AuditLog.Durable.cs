using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace Signet.Audit;

/// <summary>
/// Durable appends: group commit in rounds on the thread pool. The first append queued while no round is scheduled
/// schedules one (<c>_roundScheduled</c>, under <c>_queueLock</c>); a round writes everything queued with one write,
/// fsyncs once, completes those appends, and goes on while more were queued meanwhile. At most one round runs at a
/// time, so at most one thread is blocked in an fsync, and no caller's thread ever is.
/// </summary>
public sealed partial class AuditLog
{
    private long _inlineCompletions;

    /// <summary>Durable appends whose continuation the round ran on its own thread (for tests and diagnostics).</summary>
    internal long InlineCompletions => Interlocked.Read(ref _inlineCompletions);

    /// <summary>Runs rounds until the queue is empty (the caller scheduled this while setting <c>_roundScheduled</c>).</summary>
    private void RunRounds()
    {
        while (true)
        {
            List<Pending> batch;
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
            // With more appends queued, every continuation goes to the thread pool and this thread goes on with the
            // next round. When this round emptied the queue, the last caller's continuation runs here: a caller that
            // appends one receipt at a time pays no thread hop on the way back.
            Complete(batch, failure, lastInline: !more);
            if (!more)
            {
                return;
            }
        }
    }

    /// <summary>Writes a batch and fsyncs everything written so far; returns the failure (also kept in <c>_failure</c>), if any.</summary>
    private AuditLogFailedException? WriteAndSync(List<Pending> batch)
    {
        try
        {
            for (var start = 0; start < batch.Count; start += _options.MaxBatchSize)
            {
                var records = CollectionsMarshal.AsSpan(batch).Slice(start, Math.Min(_options.MaxBatchSize, batch.Count - start));
                var results = new AuditAppendResult[records.Length];
                lock (_io)
                {
                    WriteLocked(records, results);
                }
                for (var i = 0; i < records.Length; i++)
                {
                    ((DurableAppend)records[i]).Result = results[i];
                }
            }
            SyncWritten();
            return null;
        }
        catch (AuditLogFailedException e)
        {
            return e;
        }
        catch (Exception e)
        {
            lock (_io)
            {
                return Fail($"the audit log in {_directory} could not be appended to", e);
            }
        }
    }

    /// <summary>Completes a batch's appends: all with their results, or, when its write or fsync failed, all with the failure.</summary>
    private void Complete(List<Pending> batch, AuditLogFailedException? failure, bool lastInline)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var append = (DurableAppend)batch[i];
            var inline = lastInline && i == batch.Count - 1;
            if (inline)
            {
                Interlocked.Increment(ref _inlineCompletions);
            }
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
    private sealed class DurableAppend(byte[] json, byte[] canonical) : Pending(json, canonical), IValueTaskSource<AuditAppendResult>
    {
        private ManualResetValueTaskSourceCore<AuditAppendResult> _core = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenRegistration _cancellation;
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
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        public AuditAppendResult GetResult(short token)
        {
            // Awaiting never gets here before completion; a caller that reads the result without awaiting blocks.
            if (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
            {
                var spin = new SpinWait();
                while (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
                {
                    spin.SpinOnce();
                }
            }
            return _core.GetResult(token);
        }
    }
}
