using System.Globalization;
using System.Text;

namespace Signet.Mcp.Server;

/// <summary>
/// A nonce cache that survives restarts: every accepted nonce is appended to a file and fsynced before the call is
/// accepted, so a request captured before a restart cannot be replayed after it.
/// </summary>
/// <remarks>
/// One line per nonce: <c>&lt;expiry unix ms&gt; &lt;signer key&gt; &lt;nonce&gt;</c>. Expired lines are dropped
/// when the file is opened and when it is compacted (once it holds twice as many lines as live entries); compaction
/// writes a temporary file, fsyncs it and renames it over the old one, so a crash never loses recorded nonces. A
/// <c>.lock</c> file beside it is held exclusively while the cache is open: a second process (or instance) gets an
/// <see cref="IOException"/>. A torn last line from a crash is ignored. Thread-safe; dispose it to release the files.
/// </remarks>
public sealed class FileNonceCache : INonceCache, IDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _entries = new(StringComparer.Ordinal);
    private readonly FileStream _lockFile;
    private FileStream _file;
    private readonly TimeProvider _time;
    private int _lines;

    /// <summary>Opens (or creates) the cache file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxEntries">The most live nonces kept; beyond it the soonest to expire are dropped.</param>
    /// <param name="timeProvider">The clock for expiry.</param>
    public FileNonceCache(string path, int maxEntries = 100_000, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        Path = System.IO.Path.GetFullPath(path);
        MaxEntries = maxEntries;
        _time = timeProvider ?? TimeProvider.System;
        _lockFile = new FileStream(Path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        try
        {
            Load();
            _file = Compact();
        }
        catch
        {
            _lockFile.Dispose();
            throw;
        }
    }

    /// <summary>The cache file.</summary>
    public string Path { get; }

    /// <summary>The most live nonces kept.</summary>
    public int MaxEntries { get; }

    /// <summary>How many live nonces are kept.</summary>
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

    /// <inheritdoc/>
    public bool TryRecord(string signerKey, string nonce, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(signerKey);
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        if (signerKey.Contains(' ', StringComparison.Ordinal) || nonce.Contains(' ', StringComparison.Ordinal)
            || signerKey.Contains('\n', StringComparison.Ordinal) || nonce.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException("a signer key or nonce with spaces or line breaks cannot be recorded");
        }
        var key = signerKey + " " + nonce;
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var seen) && seen > now)
            {
                return false;
            }
            var line = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{expiresAt.ToUnixTimeMilliseconds()} {key}\n"));
            _file.Write(line);
            _file.Flush(flushToDisk: true);
            _entries[key] = expiresAt;
            _lines++;
            if (_entries.Count > MaxEntries || _lines > 2 * _entries.Count + 1024)
            {
                _file.Dispose();
                _file = Compact();
            }
            return true;
        }
    }

    /// <summary>Releases the file.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _file.Dispose();
            _lockFile.Dispose();
        }
    }

    private void Load()
    {
        if (!File.Exists(Path))
        {
            return;
        }
        var text = File.ReadAllText(Path, Encoding.UTF8);
        var now = _time.GetUtcNow();
        var end = text.LastIndexOf('\n');
        foreach (var line in text[..(end + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            _lines++;
            var parts = line.Split(' ');
            if (parts.Length != 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                continue;
            }
            var expiry = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            if (expiry > now)
            {
                _entries[parts[1] + " " + parts[2]] = expiry;
            }
        }
    }

    /// <summary>Rewrites the file with the live entries only (the soonest-expiring dropped beyond the limit); returns the append handle.</summary>
    private FileStream Compact()
    {
        var now = _time.GetUtcNow();
        // Newest first among equal expiries: the nonce just accepted must survive.
        var live = _entries.Reverse().Where(e => e.Value > now).OrderByDescending(e => e.Value).Take(MaxEntries).ToList();
        _entries.Clear();
        var text = new StringBuilder();
        foreach (var (key, expiry) in live)
        {
            _entries[key] = expiry;
            text.Append(CultureInfo.InvariantCulture, $"{expiry.ToUnixTimeMilliseconds()} {key}\n");
        }
        var temp = Path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.UTF8.GetBytes(text.ToString()));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, Path, overwrite: true);
        _lines = live.Count;
        return new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
    }
}
