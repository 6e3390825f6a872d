namespace Signet.Mcp;

/// <summary>
/// The calls forwarded and awaiting their response, keyed by <see cref="CallId"/>, matched the way a server echoes
/// ids: by the exact call id first, else by the id's numeric value (<see cref="CallId.NumericKey"/>), the oldest first
/// when several pending calls share that value. The stdio proxy, <c>signet proxy --url</c> and the library transport use it
/// (through the <see cref="Recording.ToolCallSession"/> of each connection).
/// </summary>
/// <typeparam name="T">What the adapter keeps with each call (e.g. the id as the client sent it).</typeparam>
/// <remarks>Thread-safe.</remarks>
internal sealed class PendingCalls<T>
{
    private readonly object _lock = new();
    private readonly Dictionary<string, Entry> _byCallId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Entry>> _byNumber = new(StringComparer.Ordinal);
    private long _sequence;
    private int _count;

    /// <summary>How many calls are pending.</summary>
    /// <remarks>Read without the lock: the proxies ask on every server line.</remarks>
    public int Count => Volatile.Read(ref _count);

    /// <summary>True when no call is pending.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>The call ids of the pending calls, oldest first.</summary>
    public IReadOnlyList<string> CallIds
    {
        get
        {
            lock (_lock)
            {
                return [.. _byCallId.Values.OrderBy(e => e.Sequence).Select(e => e.CallId)];
            }
        }
    }

    /// <summary>Adds a call (a call id already pending is replaced).</summary>
    public void Add(string callId, T value)
    {
        ArgumentNullException.ThrowIfNull(callId);
        lock (_lock)
        {
            RemoveLocked(callId);
            var entry = new Entry(callId, CallId.NumericKey(callId), value, _sequence++);
            _byCallId[callId] = entry;
            if (entry.NumericKey is { } key)
            {
                if (!_byNumber.TryGetValue(key, out var list))
                {
                    _byNumber[key] = list = [];
                }
                list.Add(entry);
            }
            Volatile.Write(ref _count, _byCallId.Count);
        }
    }

    /// <summary>
    /// Takes the pending call that <paramref name="echoedCallId"/> (the call id of the id a response or a cancellation
    /// carries) answers: the call with that exact call id, else the oldest with the same numeric value.
    /// </summary>
    /// <param name="echoedCallId">The call id as it came back.</param>
    /// <param name="callId">The call id the call was registered (and signed) with.</param>
    /// <param name="value">What was kept with it.</param>
    public bool TryTake(string echoedCallId, out string callId, out T value)
    {
        ArgumentNullException.ThrowIfNull(echoedCallId);
        lock (_lock)
        {
            if (!_byCallId.TryGetValue(echoedCallId, out var entry)
                && !(CallId.NumericKey(echoedCallId) is { } key && _byNumber.TryGetValue(key, out var list) && (entry = list[0]) is not null))
            {
                callId = null!;
                value = default!;
                return false;
            }
            RemoveLocked(entry.CallId);
            callId = entry.CallId;
            value = entry.Value;
            return true;
        }
    }

    /// <summary>The call registered with exactly this call id, left pending.</summary>
    public bool TryGet(string callId, out T value)
    {
        ArgumentNullException.ThrowIfNull(callId);
        lock (_lock)
        {
            if (_byCallId.TryGetValue(callId, out var entry))
            {
                value = entry.Value;
                return true;
            }
            value = default!;
            return false;
        }
    }

    /// <summary>Removes the call registered with this call id when it is still <paramref name="value"/>.</summary>
    public bool TryRemove(string callId, T value)
    {
        ArgumentNullException.ThrowIfNull(callId);
        lock (_lock)
        {
            if (!_byCallId.TryGetValue(callId, out var entry) || !EqualityComparer<T>.Default.Equals(entry.Value, value))
            {
                return false;
            }
            RemoveLocked(callId);
            return true;
        }
    }

    /// <summary>Takes the oldest pending call.</summary>
    public bool TryTakeOldest(out string callId, out T value)
    {
        lock (_lock)
        {
            Entry? oldest = null;
            foreach (var entry in _byCallId.Values)
            {
                if (oldest is null || entry.Sequence < oldest.Sequence)
                {
                    oldest = entry;
                }
            }
            if (oldest is null)
            {
                callId = null!;
                value = default!;
                return false;
            }
            RemoveLocked(oldest.CallId);
            callId = oldest.CallId;
            value = oldest.Value;
            return true;
        }
    }

    /// <summary>Removes the call registered with exactly this call id.</summary>
    public bool TryRemove(string callId, out T value)
    {
        ArgumentNullException.ThrowIfNull(callId);
        lock (_lock)
        {
            if (_byCallId.TryGetValue(callId, out var entry))
            {
                RemoveLocked(callId);
                value = entry.Value;
                return true;
            }
            value = default!;
            return false;
        }
    }

    private void RemoveLocked(string callId)
    {
        if (!_byCallId.Remove(callId, out var entry))
        {
            return;
        }
        Volatile.Write(ref _count, _byCallId.Count);
        if (entry.NumericKey is not { } key)
        {
            return;
        }
        var list = _byNumber[key];
        list.Remove(entry);
        if (list.Count == 0)
        {
            _byNumber.Remove(key);
        }
    }

    private sealed record Entry(string CallId, string? NumericKey, T Value, long Sequence);
}
