using System.Buffers;

namespace Signet.Cli.Proxy;

/// <summary>
/// One side's output stream with a lock, so that whole lines from the forwarding loop and the proxy's own error
/// responses never interleave.
/// </summary>
internal sealed class ProxyOutput(Stream stream) : IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public Stream Stream => stream;

    public async ValueTask WriteAsync(ReadOnlySequence<byte> bytes, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteUnlockedAsync(bytes, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Takes the lock for a line written in pieces (a line longer than the inspection limit).</summary>
    public Task AcquireAsync(CancellationToken cancellationToken) => _lock.WaitAsync(cancellationToken);

    /// <summary>Releases <see cref="AcquireAsync"/>.</summary>
    public void Release() => _lock.Release();

    public async ValueTask WriteUnlockedAsync(ReadOnlySequence<byte> bytes, CancellationToken cancellationToken)
    {
        foreach (var segment in bytes)
        {
            await stream.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _lock.Dispose();
}
