using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using Signet.Audit;

namespace Signet.Core.Tests.Audit;

/// <summary>
/// The real file operations, watched: which thread each fsync ran on and where each scan of a day file started. It can
/// also act as a platform without <c>statx</c>, or as a disk whose fsync fails.
/// </summary>
/// <remarks>
/// A simulation only where it says so: an fsync error (EIO, ENOSPC on a thin-provisioned device) cannot be produced on
/// demand with real files here, so <see cref="FailFsync"/> throws what <see cref="RandomAccess.FlushToDisk"/> would
/// throw instead of calling it. Everything else is passed to the real operations.
/// </remarks>
internal sealed class ObservedFiles : IAuditFiles
{
    private readonly IAuditFiles _real = AuditFiles.System;

    /// <summary>Act as a system without <c>statx</c>: the log looks the day file up by its path.</summary>
    public bool NoStatx { get; init; }

    /// <summary>When set, the next file fsyncs throw this instead of reaching the disk.</summary>
    public Exception? FailFsync { get; set; }

    /// <summary>When set, every file fsync first waits for this (a test holds a round at its fsync).</summary>
    public SemaphoreSlim? HoldFsync { get; set; }

    /// <summary>The thread of every file fsync, in order.</summary>
    public ConcurrentQueue<Thread> FsyncThreads { get; } = new();

    /// <summary>Every scan: the file and the offset it started from.</summary>
    public ConcurrentQueue<(string Path, long From)> Scans { get; } = new();

    public void Write(SafeFileHandle handle, ReadOnlySpan<byte> bytes, long offset) => _real.Write(handle, bytes, offset);

    public void SetLength(SafeFileHandle handle, long length) => _real.SetLength(handle, length);

    public void FlushToDisk(SafeFileHandle handle)
    {
        FsyncThreads.Enqueue(Thread.CurrentThread);
        HoldFsync?.Wait();
        if (FailFsync is { } failure)
        {
            throw failure;
        }
        _real.FlushToDisk(handle);
    }

    public void FsyncDirectory(string directory) => _real.FsyncDirectory(directory);

    public bool TryStatOpenFile(SafeFileHandle handle, out long size, out long links)
    {
        if (NoStatx)
        {
            size = 0;
            links = 0;
            return false;
        }
        return _real.TryStatOpenFile(handle, out size, out links);
    }

    public FileScan Scan(string path, long from, long linesBefore, FileScan? previous)
    {
        Scans.Enqueue((path, from));
        return _real.Scan(path, from, linesBefore, previous);
    }
}
