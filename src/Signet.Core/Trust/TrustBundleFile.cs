namespace Signet.Trust;

/// <summary>
/// A trust bundle file that a long-running verifier re-reads when it changes, so that a revocation written to the
/// file applies to the next receipt without a restart.
/// </summary>
/// <remarks>
/// Each <see cref="Current"/> compares the file's size and last-write time with those of the copy in memory (one
/// <c>stat</c>, no read) and parses the file again when they differ. Editors and <c>signet trust</c> replace the
/// file by renaming a complete one over it, so a half-written bundle is never seen. A file that has become
/// unreadable or invalid is not replaced by the last good copy: <see cref="Current"/> throws, and verifiers refuse
/// until it is fixed (fail closed: a revocation that cannot be read must not be ignored). Thread-safe.
/// </remarks>
public sealed class TrustBundleFile : ITrustBundleSource
{
    private readonly object _gate = new();
    private (long Length, DateTime WriteTime, TrustBundle Bundle)? _loaded;

    /// <summary>Opens the bundle at <paramref name="path"/> and reads it once, so that a bad file fails at start-up.</summary>
    /// <exception cref="TrustBundleException">The file is missing or invalid.</exception>
    public TrustBundleFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        _ = Current;
    }

    /// <summary>The bundle file's full path.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public TrustBundle Current
    {
        get
        {
            var info = new FileInfo(Path);
            if (!info.Exists)
            {
                throw new TrustBundleException($"{Path}: no such file (trust bundle)", Path);
            }
            lock (_gate)
            {
                if (_loaded is { } loaded && loaded.Length == info.Length && loaded.WriteTime == info.LastWriteTimeUtc)
                {
                    return loaded.Bundle;
                }
                var bundle = TrustBundle.Load(Path);
                _loaded = (info.Length, info.LastWriteTimeUtc, bundle);
                return bundle;
            }
        }
    }
}
