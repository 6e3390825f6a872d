using System.IO.Pipelines;
using System.Text;
using Signet.Cli.Proxy;
using Signet.Mcp;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Cli.Tests.Proxy;

/// <summary>The proxy's reader-thread stream over an in-memory pipe (whose synchronous read blocks like a real one).</summary>
public sealed class ReaderThreadStreamTests
{
    [Fact]
    public async Task ReadAsync_DataThenEof_CompletesOnTheReaderThreadAndEofRepeats()
    {
        var pipe = new Pipe();
        using var stream = new ReaderThreadStream(pipe.Reader.AsStream(), "test reader");
        var buffer = new byte[64];

        var first = stream.ReadAsync(buffer);
        Assert.False(first.IsCompleted); // nothing written yet: the thread is blocked in the read
        var awaited = AwaitAndNameThread(first);
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes("line\n"));
        var (read, thread) = await awaited.WaitAsync(PipeHarness.Timeout);

        Assert.Equal("line\n", Encoding.UTF8.GetString(buffer, 0, read));
        Assert.Equal("test reader", thread);

        await pipe.Writer.CompleteAsync();
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(PipeHarness.Timeout));
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(PipeHarness.Timeout));
    }

    /// <summary>Awaits a read that has not completed yet and names the thread its continuation ran on.</summary>
    private static async Task<(int Read, string? Thread)> AwaitAndNameThread(ValueTask<int> read)
    {
        var bytes = await read.ConfigureAwait(false);
        return (bytes, Thread.CurrentThread.Name);
    }

    [Fact]
    public async Task ReadAsync_InnerReadFails_EveryLaterReadGetsTheSameFailure()
    {
        var pipe = new Pipe();
        using var stream = new ReaderThreadStream(pipe.Reader.AsStream(), "test reader");
        var buffer = new byte[64];

        var pending = stream.ReadAsync(buffer).AsTask();
        await pipe.Writer.CompleteAsync(new IOException("the pipe broke"));

        var failure = await Assert.ThrowsAsync<IOException>(() => pending.WaitAsync(PipeHarness.Timeout));
        Assert.Equal("the pipe broke", failure.Message);
        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(buffer).AsTask().WaitAsync(PipeHarness.Timeout)));
    }

    [Fact]
    public async Task ReadAsync_CancelledWhileBlocked_EndsAtOnceAndTheStreamStops()
    {
        var pipe = new Pipe();
        using var stream = new ReaderThreadStream(pipe.Reader.AsStream(), "test reader");
        using var cancel = new CancellationTokenSource();
        var buffer = new byte[64];

        var pending = stream.ReadAsync(buffer, cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(PipeHarness.Timeout));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.ReadAsync(buffer).AsTask().WaitAsync(PipeHarness.Timeout));
        await pipe.Writer.CompleteAsync(); // lets the blocked thread end
    }
}
