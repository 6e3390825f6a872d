using System.Threading.Tasks.Sources;

namespace Signet.Cli.Proxy;

/// <summary>
/// Reads a blocking stream (the proxy's stdin, the child's stdout) on a thread of its own, and completes each
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> on that thread, so the code awaiting the read (splitting
/// lines, signing a call, writing it on) runs there too.
/// </summary>
/// <remarks>
/// <para>Why: a pipe read through the runtime's asynchronous machinery wakes one thread to notice the data and another
/// to handle it (an event loop thread, then a thread pool worker that spins before it sleeps again). Here the thread
/// that the kernel wakes when a line arrives is the one that handles it, and a message passing straight through
/// costs no thread hand-over at all: after the awaiting code has handled what was read and asked for more, control
/// returns to this thread's loop, which blocks in the next read.</para>
/// <para>Cancelling a read completes it at once with <see cref="OperationCanceledException"/> and stops the stream:
/// the thread may still be blocked in the read, and whatever that read returns is dropped. The proxy cancels only
/// when it stops reading that side for good (the child's grandchild holding its stdout open, say).</para>
/// <para>The thread is a background thread, so a read blocked on a stdin that never closes does not keep the process
/// alive.</para>
/// </remarks>
internal sealed class ReaderThreadStream : Stream, IValueTaskSource<int>
{
    private const int Idle = 0;
    private const int Pending = 1;
    private const int Stopped = 2; // a read was cancelled, or the stream disposed
    private const int Ended = 3;   // the inner stream returned EOF or failed: every later read gets the same

    private readonly Stream _inner;
    private readonly string _threadName;
    private readonly ManualResetEventSlim _requested = new(false, spinCount: 0);
    private ManualResetValueTaskSourceCore<int> _source; // continuations run on the completing thread
    private Memory<byte> _buffer;
    private CancellationTokenRegistration _cancellation;
    private Thread? _thread;
    private Exception? _failure;
    private int _state;

    /// <summary>Wraps <paramref name="inner"/>, whose <see cref="Stream.Read(Span{byte})"/> blocks until data or EOF.</summary>
    public ReaderThreadStream(Stream inner, string threadName)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _threadName = threadName;
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        if (buffer.IsEmpty && Volatile.Read(ref _state) == Idle)
        {
            return ValueTask.FromResult(0);
        }
        switch (Interlocked.CompareExchange(ref _state, Pending, Idle))
        {
            case Stopped:
                return ValueTask.FromException<int>(new OperationCanceledException("the read was cancelled and the stream stopped"));
            case Ended:
                return _failure is { } failure ? ValueTask.FromException<int>(failure) : ValueTask.FromResult(0);
            case Pending:
                return ValueTask.FromException<int>(new InvalidOperationException("a read is already in progress"));
        }

        // Nothing reads these before the thread is signalled below, and no cancellation is registered yet.
        _source.Reset();
        _buffer = buffer;
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (s, token) => ((ReaderThreadStream)s!).Cancel(token), this);
        }
        if (_thread is null)
        {
            _thread = new Thread(ReadLoop) { IsBackground = true, Name = _threadName };
            _thread.Start();
        }
        _requested.Set();
        return new ValueTask<int>(this, _source.Version);
    }

    /// <inheritdoc />
    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        await ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult(); // a Task: waiting on it is allowed

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.CompareExchange(ref _state, Stopped, Idle) == Idle)
        {
            _requested.Set(); // lets an idle loop end; a read in progress completes as usual (the caller owns the stream)
        }
        base.Dispose(disposing);
    }

    private void ReadLoop()
    {
        while (true)
        {
            _requested.Wait();
            _requested.Reset();
            var state = Volatile.Read(ref _state);
            if (state != Pending)
            {
                if (state is Stopped or Ended)
                {
                    return;
                }
                continue;
            }

            int read = 0;
            Exception? failure = null;
            try
            {
                read = _inner.Read(_buffer.Span);
            }
            catch (Exception e)
            {
                failure = e;
            }
            var ended = failure is not null || read == 0;
            _failure = failure;
            if (Interlocked.CompareExchange(ref _state, ended ? Ended : Idle, Pending) != Pending)
            {
                return; // cancelled while this thread was blocked in the read: the stream has stopped
            }
            _cancellation.Dispose();
            _buffer = default;
            if (failure is not null)
            {
                _source.SetException(failure); // runs the awaiting code here
            }
            else
            {
                _source.SetResult(read); // runs the awaiting code here, up to its next read
            }
            if (ended)
            {
                return;
            }
        }
    }

    private void Cancel(CancellationToken token)
    {
        if (Interlocked.CompareExchange(ref _state, Stopped, Pending) != Pending)
        {
            return;
        }
        _requested.Set(); // lets an idle loop end
        // Not inline: the canceller (often inside CancellationTokenSource.Cancel) should not run the reading loop's code.
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Stream.CompleteCancelled(s.Token), (Stream: this, Token: token), preferLocal: false);
    }

    private void CompleteCancelled(CancellationToken token) => _source.SetException(new OperationCanceledException(token));

    int IValueTaskSource<int>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
