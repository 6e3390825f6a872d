using System.Collections.Concurrent;
using System.Text;
using Signet.Receipts;

namespace Signet.Mcp.Tests;

/// <summary>Keeps receipts in memory, in append order.</summary>
internal sealed class MemorySink : IReceiptSink
{
    private readonly ConcurrentQueue<Receipt> _receipts = new();

    /// <summary>Runs before each append completes (e.g. to look at the message while it is held back).</summary>
    public Action<Receipt>? OnAppend { get; init; }

    public IReadOnlyList<Receipt> Receipts => [.. _receipts];

    public IReadOnlyList<Receipt> OfVersion(int version) => [.. _receipts.Where(r => r.Version == version)];

    /// <summary>Each append as "v1 durable" or "v2 deferred": how the recorder asked for it to be stored.</summary>
    public IReadOnlyList<string> Appends => [.. _appends];

    private readonly ConcurrentQueue<string> _appends = new();

    public ValueTask AppendAsync(Receipt receipt, CancellationToken cancellationToken = default)
    {
        OnAppend?.Invoke(receipt);
        _receipts.Enqueue(receipt);
        _appends.Enqueue($"v{receipt.Version} durable");
        return ValueTask.CompletedTask;
    }

    public ValueTask AppendDeferredAsync(Receipt receipt, CancellationToken cancellationToken = default)
    {
        OnAppend?.Invoke(receipt);
        _receipts.Enqueue(receipt);
        _appends.Enqueue($"v{receipt.Version} deferred");
        return ValueTask.CompletedTask;
    }
}

/// <summary>A sink whose storage is broken: every append fails as a full disk would.</summary>
internal sealed class FailingSink(int succeedFirst = 0) : IReceiptSink
{
    private int _appends;

    public ValueTask AppendAsync(Receipt receipt, CancellationToken cancellationToken = default) =>
        Interlocked.Increment(ref _appends) <= succeedFirst
            ? ValueTask.CompletedTask
            : ValueTask.FromException(new IOException("No space left on device"));
}

/// <summary>A real file sink: one receipt per line, fsynced before the append completes.</summary>
internal sealed class JsonLinesFileSink(string path) : IReceiptSink, IDisposable
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
            _file.Flush(flushToDisk: true);
        }
        finally
        {
            _lock.Release();
        }
    }

    public static IReadOnlyList<Receipt> Read(string path) =>
        [.. File.ReadAllLines(path).Where(l => l.Length > 0).Select(Receipt.Parse)];

    public void Dispose()
    {
        _file.Dispose();
        _lock.Dispose();
    }
}
