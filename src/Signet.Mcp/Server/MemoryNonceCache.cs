namespace Signet.Mcp.Server;

/// <summary>An in-memory nonce cache with a bounded size; entries expire, and the oldest goes first when it is full.</summary>
/// <remarks>
/// When the cache is full, the oldest entry is evicted even if it has not expired, which would let that one request be
/// replayed within its freshness window: size it above the number of calls you accept within the maximum receipt age.
/// </remarks>
public sealed class MemoryNonceCache : INonceCache
{
    private readonly object _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _entries = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, DateTimeOffset ExpiresAt)> _order = new();
    private readonly TimeProvider _time;

    /// <summary>Creates a cache.</summary>
    /// <param name="maxEntries">The most nonces kept (default 100,000).</param>
    /// <param name="timeProvider">The clock for expiry (default: the system clock).</param>
    public MemoryNonceCache(int maxEntries = 100_000, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        MaxEntries = maxEntries;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The most nonces kept.</summary>
    public int MaxEntries { get; }

    /// <summary>How many nonces are kept now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>How many unexpired nonces were evicted because the cache was full.</summary>
    public long Evicted { get; private set; }

    /// <inheritdoc/>
    public bool TryRecord(string signerKey, string nonce, DateTimeOffset expiresAt)
    {
        var key = signerKey + "\n" + nonce;
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            while (_order.TryPeek(out var head) && (head.ExpiresAt <= now || !_entries.TryGetValue(head.Key, out var e) || e != head.ExpiresAt))
            {
                _order.Dequeue();
                if (_entries.TryGetValue(head.Key, out var current) && current == head.ExpiresAt)
                {
                    _entries.Remove(head.Key);
                }
            }
            if (_entries.TryGetValue(key, out var seen) && seen > now)
            {
                return false;
            }
            _entries[key] = expiresAt;
            _order.Enqueue((key, expiresAt));
            while (_entries.Count > MaxEntries && _order.TryDequeue(out var oldest))
            {
                if (_entries.TryGetValue(oldest.Key, out var current) && current == oldest.ExpiresAt)
                {
                    _entries.Remove(oldest.Key);
                    Evicted++;
                }
            }
            return true;
        }
    }
}
