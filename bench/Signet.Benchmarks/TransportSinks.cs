using System.Text;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary>The logging configurations the transport harness measures.</summary>
internal static class TransportSinks
{
    public sealed record SinkConfig(string Name, Func<string, IReceiptSink?> Open, Func<IReceiptSink?, ValueTask> Close);

    public static IEnumerable<SinkConfig> Configs(string dir) =>
    [
        new("SigningTransport, JSON lines file, flushed to the OS", d => new LineFileSink(Path.Combine(d, "fast.jsonl"), fsync: false), Close),
        new("SigningTransport, JSON lines file, fsync per receipt", d => new LineFileSink(Path.Combine(d, "durable.jsonl"), fsync: true), Close),
    ];

    private static ValueTask Close(IReceiptSink? sink)
    {
        (sink as IDisposable)?.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class LineFileSink(string path, bool fsync) : IReceiptSink, IDisposable
    {
        private readonly SemaphoreSlim _lock = new(1, 1);
        private readonly FileStream _file = new(path, FileMode.Append, FileAccess.Write, FileShare.Read);

        public async ValueTask AppendAsync(Receipt receipt, CancellationToken cancellationToken = default)
        {
            var line = Encoding.UTF8.GetBytes(receipt.ToJsonString() + "\n");
            await _lock.WaitAsync(cancellationToken);
            try
            {
                await _file.WriteAsync(line, cancellationToken);
                _file.Flush(flushToDisk: fsync);
            }
            finally
            {
                _lock.Release();
            }
        }

        public void Dispose()
        {
            _file.Dispose();
            _lock.Dispose();
        }
    }
}
