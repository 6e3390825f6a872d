using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Signet.Canonicalization;
using Signet.Diagnostics;

namespace Signet.Audit;

/// <summary>
/// The chain file and its cursor: which day file the tail is in, the offset and line count just past its last record,
/// the tip hash, the open handle, and the two cross-process locks every batch is written under. It writes batches of
/// records (<see cref="Write"/>), fsyncs what was written (<see cref="SyncWritten"/>), reads what other processes
/// appended since its last batch, and stops for good at the first write or fsync error.
/// </summary>
/// <remarks>
/// Thread-safe. The state is guarded by one lock; <see cref="SyncWritten"/> runs the fsync outside it (the handle
/// pinned), so a batch can be written while the fsync of the one before is in flight. Each batch is written under an
/// exclusive flock on <c>append.lock</c> and on the day file's <c>YYYY-MM-DD.jsonl.lock</c> (the reference's lock), so
/// several processes on one home build one chain.
/// </remarks>
internal sealed partial class AuditChain
{
    private readonly string _directory;
    private readonly AuditLogOptions _options;
    private readonly ILogger _logger;
    private readonly IAuditFiles _files;
    private readonly AuditRecovery _recovery;
    private readonly object _io = new();
    private readonly object _syncLock = new();
    private readonly AuditFileLock _globalLock;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private AuditFileLock? _dayLock;
    private SafeFileHandle? _handle;
    private string? _handlePath;
    private AuditCursor _cursor;
    private string _tailHash = SignetHash.Genesis;
    private bool _directoryDirty;
    private bool _closed;
    private long _writeSeq;
    private long _syncedSeq;
    private volatile AuditLogFailedException? _failure;
    private long _batches;
    private long _records;
    private long _syncs;

    public AuditChain(string directory, AuditLogOptions options, ILogger logger, IAuditFiles files, bool repairing)
    {
        _directory = directory;
        _options = options;
        _logger = logger;
        _files = files;
        _recovery = new AuditRecovery(directory, logger, files, repairing);
        _globalLock = new AuditFileLock(Path.Combine(directory, AuditLog.AppendLockFileName));
    }

    /// <summary>The audit directory.</summary>
    public string Directory => _directory;

    /// <summary>The failure that stopped the writer, if any.</summary>
    public AuditLogFailedException? Failure => _failure;

    /// <summary>The <c>record_hash</c> of the last record this writer knows of.</summary>
    public string TipHash
    {
        get
        {
            lock (_io)
            {
                return _tailHash;
            }
        }
    }

    /// <summary>Batches written, records written and fsyncs done.</summary>
    public (long Batches, long Records, long Syncs) Statistics
    {
        get
        {
            lock (_io)
            {
                return (_batches, _records, _syncs);
            }
        }
    }

    /// <summary>Torn tails found and moved aside (on open, or left by another process that crashed).</summary>
    public IReadOnlyList<AuditTornTail> RecoveredTornTails
    {
        get
        {
            lock (_io)
            {
                return [.. _recovery.TornTails];
            }
        }
    }

    /// <summary>Finds the tail (under the global lock); on failure the lock file is closed.</summary>
    /// <exception cref="IOException">The files cannot be read, or a torn tail cannot be moved aside.</exception>
    /// <exception cref="AuditLogCorruptException">The last line is complete but not a record.</exception>
    public void Recover()
    {
        try
        {
            _globalLock.Acquire();
            try
            {
                lock (_io)
                {
                    (_cursor, _tailHash) = _recovery.Recover();
                }
            }
            finally
            {
                _globalLock.Release();
            }
        }
        catch
        {
            _globalLock.Dispose();
            throw;
        }
    }

    /// <summary>The lines repair moved aside on open; later corrupt lines stop the writer as usual.</summary>
    public List<AuditRepairedLine> EndRepair()
    {
        lock (_io)
        {
            return _recovery.EndRepair();
        }
    }

    /// <summary>Writes records to the chain, no fsync. Throws <see cref="AuditLogFailedException"/> or, once closed, <see cref="ObjectDisposedException"/>.</summary>
    public void Write(ReadOnlySpan<PendingRecord> records, Span<AuditAppendResult> results)
    {
        lock (_io)
        {
            if (_closed)
            {
                throw new ObjectDisposedException(nameof(AuditLog), "the audit log is closed");
            }
            WriteLocked(records, results);
        }
    }

    /// <summary>Writes records (held: <see cref="_io"/>). Throws <see cref="AuditLogFailedException"/>.</summary>
    private void WriteLocked(ReadOnlySpan<PendingRecord> records, Span<AuditAppendResult> results)
    {
        if (_failure is { } earlier)
        {
            throw earlier;
        }
        try
        {
            var dayName = AuditRecordFormat.DayFileName(_options.TimeProvider.GetUtcNow());
            _globalLock.Acquire();
            try
            {
                CatchUp();
                var target = ChooseTarget(dayName);
                var dayLock = DayLock(target);
                dayLock.Acquire();
                try
                {
                    if (!string.Equals(target, _cursor.Path, StringComparison.Ordinal))
                    {
                        SwitchTo(target);
                    }
                    WriteRecords(records, results);
                }
                finally
                {
                    dayLock.Release();
                }
            }
            finally
            {
                _globalLock.Release();
            }
        }
        catch (AuditLogFailedException)
        {
            throw;
        }
        catch (Exception e)
        {
            // Whatever went wrong, the callers must hear of it and no later append may pretend all is well.
            throw Fail($"the audit log in {_directory} could not be appended to", e);
        }
    }

    private void WriteRecords(ReadOnlySpan<PendingRecord> records, Span<AuditAppendResult> results)
    {
        var path = _cursor.Path!;
        var handle = EnsureHandle(path);
        var offset = _cursor.End;
        var line = _cursor.Lines;
        var prev = _tailHash;
        _buffer.ResetWrittenCount();
        for (var i = 0; i < records.Length; i++)
        {
            var pending = records[i];
            var hash = AuditRecordFormat.RecordHash(prev, pending.Canonical);
            AuditRecordFormat.WriteLine(_buffer, pending.Json, prev, hash);
            results[i] = new AuditAppendResult(hash, prev, path, ++line);
            prev = hash;
        }

        try
        {
            _files.Write(handle, _buffer.WrittenSpan, offset);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leave no partial record behind: cut the file back to the last whole record before failing.
            try
            {
                _files.SetLength(handle, offset);
            }
            catch (Exception cut) when (cut is IOException or UnauthorizedAccessException)
            {
                LogTruncateFailed(_logger, path, offset, cut.Message);
            }
            throw Fail($"writing to {path} failed", e);
        }

        _cursor = new AuditCursor(path, offset + _buffer.WrittenCount, line);
        _tailHash = prev;
        _batches++;
        _records += records.Length;
        _writeSeq++;
    }

    /// <summary>
    /// Makes everything written so far durable (not held: <see cref="_io"/>). The handle is pinned while the fsync runs,
    /// so a day switch or close cannot free it underneath.
    /// </summary>
    public void SyncWritten()
    {
        // One at a time (a round, the flush timer): a second caller must not report its records durable
        // while the first is still fsyncing the directory entry of a new day file it took over.
        lock (_syncLock)
        {
            SafeFileHandle? handle;
            long target;
            bool directory;
            var pinned = false;
            lock (_io)
            {
                if (_failure is { } failure)
                {
                    throw failure;
                }
                target = _writeSeq;
                directory = _directoryDirty;
                if (target <= Volatile.Read(ref _syncedSeq) && !directory)
                {
                    return;
                }
                _directoryDirty = false;
                handle = _handle;
                handle?.DangerousAddRef(ref pinned);
            }
            try
            {
                if (handle is not null)
                {
                    var started = SignetTelemetry.FsyncDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
                    _files.FlushToDisk(handle);
                    Interlocked.Increment(ref _syncs);
                    if (started != 0)
                    {
                        SignetTelemetry.FsyncDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                    }
                }
                if (directory)
                {
                    _files.FsyncDirectory(_directory);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                lock (_io)
                {
                    throw Fail(directory && handle is null ? $"fsync of the directory {_directory} failed" : $"fsync of {_handlePath} failed", e);
                }
            }
            finally
            {
                if (pinned)
                {
                    handle!.DangerousRelease();
                }
            }
            AdvanceSynced(target);
        }
    }

    /// <summary>What the flush timer does: fsync what was written without one; a failure is kept for the next append.</summary>
    public void FlushOnTimer()
    {
        if (_failure is not null || Volatile.Read(ref _closed))
        {
            return;
        }
        try
        {
            SyncWritten();
        }
        catch (AuditLogFailedException)
        {
            // Fail() recorded it; every later append reports it.
        }
    }

    /// <summary>Records a failure from outside a write (the first one wins) and returns it.</summary>
    public AuditLogFailedException Fail(string what, Exception cause)
    {
        lock (_io)
        {
            return FailLocked(what, cause);
        }
    }

    /// <summary>
    /// Fsyncs what is left, writes the tail checkpoint when everything reached the disk, and closes the files and
    /// locks. Returns true when records written without an fsync may not be on the device (a failure stopped it).
    /// </summary>
    public bool Close()
    {
        lock (_io)
        {
            if (_failure is null)
            {
                try
                {
                    SyncIfDirty();
                }
                catch (AuditLogFailedException)
                {
                    // Fail() recorded it; the caller throws it.
                }
            }
            var unsynced = _writeSeq > Volatile.Read(ref _syncedSeq);
            if (!unsynced && _failure is null)
            {
                _recovery.WriteCheckpoint(_cursor, _tailHash);
            }
            _handle?.Dispose();
            _handle = null;
            _dayLock?.Dispose();
            _dayLock = null;
            _globalLock.Dispose();
            _closed = true;
            return unsynced;
        }
    }

    private void AdvanceSynced(long target)
    {
        var seen = Volatile.Read(ref _syncedSeq);
        while (seen < target)
        {
            var before = Interlocked.CompareExchange(ref _syncedSeq, target, seen);
            if (before == seen)
            {
                return;
            }
            seen = before;
        }
    }

    /// <summary>Fsyncs what is written (held: <see cref="_io"/>): before a handle is closed, and on close.</summary>
    private void SyncIfDirty()
    {
        var target = _writeSeq;
        if (target > Volatile.Read(ref _syncedSeq) && _handle is not null)
        {
            try
            {
                _files.FlushToDisk(_handle);
                Interlocked.Increment(ref _syncs);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw FailLocked($"fsync of {_handlePath} failed", e);
            }
            AdvanceSynced(target);
        }
        if (_directoryDirty)
        {
            try
            {
                _files.FsyncDirectory(_directory);
            }
            catch (IOException e)
            {
                throw FailLocked($"fsync of the directory {_directory} failed", e);
            }
            _directoryDirty = false;
        }
    }

    private AuditLogFailedException FailLocked(string what, Exception cause)
    {
        var failure = _failure;
        if (failure is null)
        {
            failure = new AuditLogFailedException(
                $"{what}: {cause.Message.TrimEnd('.')}. The audit log writer has stopped and refuses further appends; records it reported as written before this are intact. Fix the cause (disk space, permissions, device) and reopen the log.",
                cause);
            _failure = failure;
            LogWriterFailed(_logger, _directory, cause.Message);
        }
        return failure;
    }

    private SafeFileHandle EnsureHandle(string path)
    {
        if (_handle is not null && string.Equals(_handlePath, path, StringComparison.Ordinal))
        {
            return _handle;
        }
        CloseHandle();
        var existed = File.Exists(path);
        _handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        if (!existed && !OperatingSystem.IsWindows())
        {
            // The log holds tool arguments: only its owner may read it (the directory is 0700 as well).
            File.SetUnixFileMode(_handle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        _handlePath = path;
        if (!existed)
        {
            _directoryDirty = true;
        }
        return _handle;
    }

    /// <summary>
    /// Someone removed the day file under this writer: writing on through the old handle would put records in an
    /// unlinked inode, so the file is started again, and verify reports the removed records.
    /// </summary>
    private void DropRemovedFile(string path)
    {
        LogFileRemoved(_logger, path);
        DropHandle();
        _cursor = new AuditCursor(path, 0, 0);
    }

    /// <summary>Closes the handle of a file no name reaches any more; nothing written through it is left to fsync.</summary>
    private void DropHandle()
    {
        _handle?.Dispose();
        _handle = null;
        _handlePath = null;
        AdvanceSynced(_writeSeq);
    }

    private void CloseHandle()
    {
        if (_handle is null)
        {
            return;
        }
        SyncIfDirty();
        _handle.Dispose();
        _handle = null;
        _handlePath = null;
    }

    private AuditFileLock DayLock(string dayFile)
    {
        var lockPath = dayFile + ".lock";
        if (_dayLock is not null && string.Equals(_dayLock.Path, lockPath, StringComparison.Ordinal))
        {
            return _dayLock;
        }
        _dayLock?.Dispose();
        _dayLock = new AuditFileLock(lockPath);
        return _dayLock;
    }

    /// <summary>Never write into a file that sorts before the one holding the tail (a clock that stepped back).</summary>
    private string ChooseTarget(string dayName)
    {
        var target = Path.Combine(_directory, dayName);
        if (_cursor.Path is { } current && string.CompareOrdinal(Path.GetFileName(current), dayName) > 0)
        {
            return current;
        }
        return target;
    }

    private void SwitchTo(string target)
    {
        CloseHandle();
        if (File.Exists(target))
        {
            // Another process made today's file; its records (if any) are the tail now.
            var (scan, hash) = _recovery.ScanAndRepair(target, new AuditCursor(target, 0, 0), null);
            if (hash is not null)
            {
                _tailHash = hash;
            }
            _cursor = new AuditCursor(target, scan.End, scan.Lines);
        }
        else
        {
            _cursor = new AuditCursor(target, 0, 0);
        }
    }

    /// <summary>Reads what other processes appended since this writer's last batch (only the new bytes).</summary>
    private void CatchUp()
    {
        if (_cursor.Path is not { } path)
        {
            return;
        }
        long length;
        if (_handle is not null && string.Equals(_handlePath, path, StringComparison.Ordinal) &&
            _files.TryStatOpenFile(_handle, out var size, out var links))
        {
            // One statx on the open file (no path lookups): its size, and whether a name still reaches it.
            if (links == 0)
            {
                if (!File.Exists(path))
                {
                    DropRemovedFile(path);
                    return;
                }
                // Another file was renamed over ours (an editor's save, a copy put back): writing on through the old
                // handle would put records where no name reaches them. Read the file that is there now from its start.
                LogFileReplaced(_logger, path);
                DropHandle();
                ReadOn(path, new AuditCursor(path, 0, 0));
                return;
            }
            length = size;
        }
        else
        {
            if (!File.Exists(path))
            {
                if (_cursor.End > 0)
                {
                    DropRemovedFile(path);
                }
                return;
            }
            length = new FileInfo(path).Length;
        }
        if (length == _cursor.End)
        {
            return;
        }
        if (length < _cursor.End)
        {
            LogFileShrank(_logger, path, _cursor.End, length);
        }
        ReadOn(path, length > _cursor.End ? _cursor : new AuditCursor(path, 0, 0));
    }

    /// <summary>Reads a day file from a known line start and continues the chain from its last record.</summary>
    private void ReadOn(string path, AuditCursor from)
    {
        var (scan, hash) = _recovery.ScanAndRepair(path, from, null);
        if (hash is not null)
        {
            _tailHash = hash;
        }
        else if (from.End == 0)
        {
            _tailHash = _recovery.LastHashBefore(path);
        }
        _cursor = new AuditCursor(path, scan.End, scan.Lines);
    }

    [LoggerMessage(3, LogLevel.Error, "Audit log writer in {Directory} failed and refuses further appends: {Reason}")]
    private static partial void LogWriterFailed(ILogger logger, string directory, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Audit file {File} shrank from {Expected} to {Actual} bytes behind this writer; re-reading it")]
    private static partial void LogFileShrank(ILogger logger, string file, long expected, long actual);

    [LoggerMessage(6, LogLevel.Error, "Audit file {File} was removed while this writer had it open; recreating it (verify will report the missing records)")]
    private static partial void LogFileRemoved(ILogger logger, string file);

    [LoggerMessage(7, LogLevel.Error, "Audit file {File} was replaced by another file while this writer had it open; continuing the chain from the file now there (verify will report what changed)")]
    private static partial void LogFileReplaced(ILogger logger, string file);

    [LoggerMessage(5, LogLevel.Error, "Could not cut {File} back to {Offset} bytes after a failed write: {Reason}")]
    private static partial void LogTruncateFailed(ILogger logger, string file, long offset, string reason);
}
