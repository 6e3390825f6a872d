using System.Buffers;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Signet.Cli.Proxy;

/// <summary>
/// Lets the work that precedes forwarding a message (signing it, appending its receipt durably) overlap across
/// messages while the messages themselves still go out in arrival order.
/// </summary>
/// <remarks>
/// <para>One producer (the loop reading one side) hands over steps; one runner applies them strictly in the order
/// they were handed over, each once its <c>ready</c> task has completed. So 16 calls in flight are signed and
/// appended concurrently (the audit log then commits them with shared fsyncs), and a later line, whatever it is,
/// never overtakes an earlier one.</para>
/// <para>Bounded: at most <see cref="MaxQueuedSteps"/> steps wait, and a line longer than
/// <see cref="MaxQueuedLineBytes"/> is not queued: the producer first waits until everything before it has gone out
/// and then handles it directly (waiting for its preparation before reading on). A full queue stops the producer from reading, so backpressure reaches
/// the sender as before.</para>
/// <para>When the destination fails (its stream closed) or the loop is cancelled, the steps not yet applied are
/// abandoned in order: each gets its abandon callback (a call that was signed but not forwarded is answered with an
/// error), and nothing more is written to the destination.</para>
/// </remarks>
internal sealed class OrderedPipeline
{
    /// <summary>The most steps waiting to be applied.</summary>
    public const int MaxQueuedSteps = 64;

    /// <summary>Lines longer than this are handled after the queue drains rather than copied into it.</summary>
    public const int MaxQueuedLineBytes = 1024 * 1024;

    private readonly Channel<Step> _steps = Channel.CreateBounded<Step>(new BoundedChannelOptions(MaxQueuedSteps)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly CancellationToken _cancellationToken;
    private readonly CancellationTokenSource _failed;
    private readonly Task _runner;
    private int _queued;
    private volatile ExceptionDispatchInfo? _failure;

    /// <summary>Starts the runner; it stops at <see cref="CompleteAsync"/>, on a failed step, or on cancellation.</summary>
    public OrderedPipeline(CancellationToken cancellationToken)
    {
        _cancellationToken = cancellationToken;
        _failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _runner = Task.Run(RunAsync, CancellationToken.None);
    }

    /// <summary>Cancelled when the pipeline fails (or the loop's token is): the producer stops reading then.</summary>
    public CancellationToken Failed => _failed.Token;

    /// <summary>Applies a step to a line, given the line and the token of the loop.</summary>
    public delegate ValueTask Apply(ReadOnlySequence<byte> line, CancellationToken cancellationToken);

    /// <summary>Abandons a step that will never be applied; <paramref name="cause"/> says why (for an error message).</summary>
    public delegate ValueTask Abandon(string cause);

    /// <summary>True when every step handed over so far has been applied (only the producer changes this to false).</summary>
    public bool IsIdle => Volatile.Read(ref _queued) == 0;

    /// <summary>
    /// Applies <paramref name="apply"/> to <paramref name="line"/> after every earlier step and after
    /// <paramref name="ready"/> completes: at once when nothing is queued and <paramref name="ready"/> is done,
    /// otherwise through the queue (with a copy of the line, whose buffer the caller reuses once this returns).
    /// Throws the destination's failure once the pipeline has failed.
    /// </summary>
    /// <param name="line">The line read (valid only until this returns).</param>
    /// <param name="ready">The step's preparation (e.g. recording a call); it must not fault except on cancellation.</param>
    /// <param name="apply">Writes the step's output, in order.</param>
    /// <param name="abandon">Answers the step if it is never applied (null: it is dropped).</param>
    /// <param name="keepsLine">Whether <paramref name="apply"/> uses the line (when not, a queued step carries no copy).</param>
    /// <param name="cancellationToken">The loop's token.</param>
    public async ValueTask RunAsync(ReadOnlySequence<byte> line, Task ready, Apply apply, Abandon? abandon, bool keepsLine, CancellationToken cancellationToken)
    {
        _failure?.Throw();
        if (IsIdle && ready.IsCompleted)
        {
            await ready.ConfigureAwait(false);
            await apply(line, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (line.Length > MaxQueuedLineBytes)
        {
            // A big message (held as bytes or as the parsed call) is not queued: memory stays bounded.
            await DrainAsync(cancellationToken).ConfigureAwait(false);
            await ready.ConfigureAwait(false);
            await apply(line, cancellationToken).ConfigureAwait(false);
            return;
        }

        var held = keepsLine && !line.IsEmpty ? new ReadOnlySequence<byte>(line.ToArray()) : ReadOnlySequence<byte>.Empty;
        await EnqueueAsync(new Step(ready, held, apply, abandon), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns once every step handed over so far has been applied (or throws the pipeline's failure).</summary>
    public async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        if (IsIdle)
        {
            _failure?.Throw();
            return;
        }
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await EnqueueAsync(new Step(
            Task.CompletedTask,
            ReadOnlySequence<byte>.Empty,
            (_, _) =>
            {
                drained.TrySetResult();
                return ValueTask.CompletedTask;
            },
            _ =>
            {
                drained.TrySetException(_failure?.SourceException ?? new OperationCanceledException(_cancellationToken));
                return ValueTask.CompletedTask;
            }), cancellationToken).ConfigureAwait(false);
        await drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the input and waits for the runner: every queued step is applied (or abandoned after a failure, whose
    /// exception this rethrows).
    /// </summary>
    public async Task CompleteAsync()
    {
        _steps.Writer.TryComplete();
        await _runner.ConfigureAwait(false);
        _failed.Dispose();
        _failure?.Throw();
    }

    private async ValueTask EnqueueAsync(Step step, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queued);
        try
        {
            if (!_steps.Writer.TryWrite(step))
            {
                await _steps.Writer.WriteAsync(step, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is ChannelClosedException or OperationCanceledException)
        {
            // The runner has stopped (or the loop is cancelled): this step never runs.
            Interlocked.Decrement(ref _queued);
            await AbandonAsync(step, CauseOf(_failure?.SourceException ?? e)).ConfigureAwait(false);
            _failure?.Throw();
            throw;
        }
    }

    private async Task RunAsync()
    {
        var reader = _steps.Reader;
        Step? unapplied = null; // a step whose preparation failed or was cancelled: it is abandoned with the rest
        try
        {
            while (await reader.WaitToReadAsync(_cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var step))
                {
                    unapplied = step;
                    try
                    {
                        await step.Ready.ConfigureAwait(false);
                        // From here a failure leaves the step partly applied (a call already pending is answered by
                        // the proxy's pending-call handling), so it is not abandoned.
                        unapplied = null;
                        await step.Apply(step.Line, _cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _queued);
                    }
                }
            }
        }
        catch (Exception e)
        {
            // The destination is gone or the loop was stopped: nothing more is written; what is queued is abandoned.
            _failure = ExceptionDispatchInfo.Capture(e);
            _steps.Writer.TryComplete();
            await _failed.CancelAsync().ConfigureAwait(false);
            var cause = CauseOf(e);
            if (unapplied is { } first)
            {
                await AbandonAsync(first, cause).ConfigureAwait(false);
            }
            while (reader.TryRead(out var step))
            {
                await AbandonAsync(step, cause).ConfigureAwait(false);
                Interlocked.Decrement(ref _queued);
            }
        }
    }

    private static async ValueTask AbandonAsync(Step step, string cause)
    {
        try
        {
            // Let the preparation finish (it may have stored a receipt) before the step is answered.
            await step.Ready.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Cancelled or failed preparation: the abandon callback still answers the step.
        }
        if (step.Abandon is { } abandon)
        {
            try
            {
                await abandon(cause).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
            {
                // Nobody is left to tell.
            }
        }
    }

    private static string CauseOf(Exception e) => e is OperationCanceledException
        ? "the proxy was shutting down"
        : $"the server stopped accepting messages ({e.Message})";

    private readonly record struct Step(Task Ready, ReadOnlySequence<byte> Line, Apply Apply, Abandon? Abandon);
}
