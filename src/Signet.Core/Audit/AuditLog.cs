using System.Buffers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Signet.Canonicalization;

namespace Signet.Audit;

/// <summary>
/// The writer of a hash-chained audit log: one record line per receipt, one chain across
/// <c>audit/YYYY-MM-DD.jsonl</c> day files chosen by the UTC date of the append.
/// </summary>
/// <remarks>
/// Thread-safe. In durable mode, appends are queued and written in rounds: a round writes everything queued with one
/// write, fsyncs once, and completes those appends (group commit); appends queued meanwhile go in the next round. The
/// round an append schedules runs on the thread pool; the rounds that follow it without a pause (a steady load) run on
/// the log's own round thread, so no pool thread stays blocked in fsync. At most one round runs at a time, so at most
/// one thread is blocked in an fsync and no caller's thread ever is; when a pool round leaves nobody else waiting, the
/// last caller's continuation runs on that thread (no thread hop back for a caller that appends one receipt at a
/// time). The fsync runs outside the write lock, so deferred appends are written while it is in flight. Fast-mode
/// appends and deferred appends (<see cref="AppendDeferredAsync"/>) are written by the calling thread under the write
/// lock, with no thread hop, and fsynced on a short timer (<see cref="AuditLogOptions.FastFlushInterval"/>), by the
/// next batch's fsync, and on close. Across processes, each batch's write holds an exclusive flock on
/// <c>append.lock</c> and on the day file's <c>YYYY-MM-DD.jsonl.lock</c> (the reference's lock), so several
/// processes on one home build one chain. After a write or fsync error the writer refuses every later append.
/// Dispose it to fsync and close.
/// </remarks>
public sealed partial class AuditLog : IAsyncDisposable, Signet.Receipts.IReceiptSink
{
    /// <summary>The lock file every writer of this implementation takes first (not <c>*.jsonl</c>, so no walker reads it).</summary>
    public const string AppendLockFileName = "append.lock";

    private readonly string _directory;
    private readonly AuditLogOptions _options;
    private readonly ILogger _logger;
    private readonly object _queueLock = new();
    private readonly object _io = new();
    private readonly object _syncLock = new();
    private readonly AuditFileLock _globalLock;
    private readonly TaskCompletionSource _roundsDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly List<AuditTornTail> _tornTails = [];
    private readonly List<AuditRepairedLine> _repairs = [];
    private bool _repairing;
    private List<Pending> _queue = [];
    private bool _closing;
    private bool _roundScheduled;
    private ITimer? _flushTimer;
    private AuditFileLock? _dayLock;
    private SafeFileHandle? _handle;
    private string? _handlePath;
    private Cursor _cursor;
    private string _tailHash = SignetHash.Genesis;
    private bool _directoryDirty;
    private bool _closed;
    private long _writeSeq;
    private long _syncedSeq;
    private volatile AuditLogFailedException? _failure;
    private long _batches;
    private long _records;
    private long _syncs;

    private AuditLog(string directory, AuditLogOptions options, ILogger logger)
    {
        _directory = directory;
        _options = options;
        _logger = logger;
        _globalLock = new AuditFileLock(Path.Combine(directory, AppendLockFileName));
    }

    /// <summary>The audit directory.</summary>
    public string Directory => _directory;

    /// <summary>The durability mode.</summary>
    public AuditDurability Durability => _options.Durability;

    /// <summary>The <c>record_hash</c> of the last record this writer knows of (genesis for an empty log).</summary>
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

    /// <summary>Batches written, records written and fsyncs done by this writer (for benchmarks and diagnostics).</summary>
    internal (long Batches, long Records, long Syncs) Statistics
    {
        get
        {
            lock (_io)
            {
                return (_batches, _records, _syncs);
            }
        }
    }

    /// <summary>Torn tails this writer found and moved aside (on open, or left by another process that crashed).</summary>
    public IReadOnlyList<AuditTornTail> RecoveredTornTails
    {
        get
        {
            lock (_io)
            {
                return [.. _tornTails];
            }
        }
    }

    /// <summary>
    /// Opens (creating if needed) the log in <paramref name="auditDirectory"/>: recovers the chain tail from the end of
    /// the newest day file, moving a torn last line (one without its newline, what a crash leaves) aside, and starts
    /// the writer.
    /// </summary>
    /// <exception cref="AuditLogCorruptException">
    /// The last line ends with a newline but is not a record whose hash matches its content: nothing a crash leaves, so
    /// it is not removed; <see cref="RepairAsync"/> (<c>signet log repair</c>) moves it aside and records that.
    /// </exception>
    /// <exception cref="SignetException">The directory or its lock cannot be created or read, or a torn tail cannot be moved aside.</exception>
    public static AuditLog Open(string auditDirectory, AuditLogOptions? options = null, ILogger? logger = null) =>
        OpenCore(auditDirectory, options, logger, repairing: false);

    private static AuditLog OpenCore(string auditDirectory, AuditLogOptions? options, ILogger? logger, bool repairing)
    {
        ArgumentException.ThrowIfNullOrEmpty(auditDirectory);
        options ??= new AuditLogOptions();
        if (options.MaxBatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxBatchSize must be at least 1");
        }
        var directory = Path.GetFullPath(auditDirectory);
        AuditLog log;
        try
        {
            if (!System.IO.Directory.Exists(directory))
            {
                // The log holds tool arguments: only its owner may read it.
                if (OperatingSystem.IsWindows())
                {
                    System.IO.Directory.CreateDirectory(directory);
                }
                else
                {
                    System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
                var parent = Path.GetDirectoryName(directory);
                if (parent is not null)
                {
                    NativeFile.FsyncDirectory(parent);
                }
            }
            log = new AuditLog(directory, options, logger ?? NullLogger.Instance) { _repairing = repairing };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SignetException($"cannot open the audit log in {directory}: {e.Message.TrimEnd('.')}. Check that the directory exists, is writable and is not full.", e);
        }

        try
        {
            log._globalLock.Acquire();
            try
            {
                log.Recover();
            }
            finally
            {
                log._globalLock.Release();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log._globalLock.Dispose();
            throw new SignetException($"cannot recover the audit log in {directory}: {e.Message}", e);
        }
        catch (AuditLogCorruptException)
        {
            log._globalLock.Dispose();
            throw;
        }

        // Fast-mode appends, and deferred appends in durable mode, are fsynced on this timer at the latest.
        log._flushTimer = options.TimeProvider.CreateTimer(static s => ((AuditLog)s!).FlushOnTimer(), log,
            options.FastFlushInterval, options.FastFlushInterval);
        LogOpened(log._logger, directory, options.Durability, log._tailHash);
        return log;
    }

    /// <summary>
    /// Appends one receipt. Completes when the record is durable (durable mode) or written to the OS (fast mode).
    /// </summary>
    /// <remarks>
    /// The receipt is copied before this returns, so the caller may reuse it. Cancelling stops the wait only: a record
    /// already queued is still written.
    /// </remarks>
    /// <exception cref="AuditLogFailedException">The writer failed earlier, or this batch's write or fsync failed.</exception>
    /// <exception cref="CanonicalizationException">The receipt cannot be canonicalized (it could never be verified).</exception>
    public ValueTask<AuditAppendResult> AppendAsync(JsonObject receipt, CancellationToken ct = default)
    {
        if (_options.Durability == AuditDurability.Fast)
        {
            // Fast mode: every append is written by its caller and fsynced later, as a deferred one is.
            return AppendDeferredAsync(receipt, ct);
        }
        ArgumentNullException.ThrowIfNull(receipt);
        ct.ThrowIfCancellationRequested();
        if (_failure is { } failure)
        {
            return ValueTask.FromException<AuditAppendResult>(failure);
        }
        var (json, canonical) = Encode(receipt);
        var pending = new DurableAppend(json, canonical);
        if (ct.CanBeCanceled)
        {
            // Before the append is queued, so that the round that completes it always finds the registration to undo.
            pending.CancelWaitOn(ct);
        }
        bool queued, schedule = false;
        lock (_queueLock)
        {
            queued = !_closing;
            if (queued)
            {
                _queue.Add(pending);
                schedule = !_roundScheduled;
                _roundScheduled = true;
            }
        }
        if (!queued)
        {
            pending.Complete(null, new ObjectDisposedException(nameof(AuditLog), "the audit log is closed"), inline: false);
        }
        else if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static log => log.RunRounds(onRoundThread: false), this, preferLocal: true);
        }
        return new ValueTask<AuditAppendResult>(pending, 0);
    }

    /// <summary>
    /// Appends one receipt and completes once the record is written to the OS, in either mode, without waiting for an
    /// fsync: for receipts of something that has already happened (the response to a call whose request receipt was
    /// made durable first). The record is fsynced with the next durable batch, by the flush timer
    /// (<see cref="AuditLogOptions.FastFlushInterval"/>), or on close, whichever comes first.
    /// </summary>
    /// <remarks>Written by the calling thread; it never waits for an fsync in flight.</remarks>
    /// <exception cref="AuditLogFailedException">The writer failed earlier, or this write failed.</exception>
    /// <exception cref="CanonicalizationException">The receipt cannot be canonicalized (it could never be verified).</exception>
    public ValueTask<AuditAppendResult> AppendDeferredAsync(JsonObject receipt, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        ct.ThrowIfCancellationRequested();
        if (_failure is { } failure)
        {
            return ValueTask.FromException<AuditAppendResult>(failure);
        }
        var (json, canonical) = Encode(receipt);
        return AppendInline(new Pending(json, canonical));
    }

    /// <summary>Appends a signed receipt (the <see cref="Signet.Receipts.IReceiptSink"/> view of <see cref="AppendAsync(JsonObject, CancellationToken)"/>).</summary>
    async ValueTask Signet.Receipts.IReceiptSink.AppendAsync(Signet.Receipts.Receipt receipt, CancellationToken cancellationToken) =>
        await AppendAsync(receipt.Json, cancellationToken).ConfigureAwait(false);

    /// <summary>Appends a receipt of what already happened (the <see cref="Signet.Receipts.IReceiptSink"/> view of <see cref="AppendDeferredAsync"/>).</summary>
    async ValueTask Signet.Receipts.IReceiptSink.AppendDeferredAsync(Signet.Receipts.Receipt receipt, CancellationToken cancellationToken) =>
        await AppendDeferredAsync(receipt.Json, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// The record's receipt bytes, and their canonical form read back from those very bytes: the hash then covers
    /// exactly what a verifier will read from the file.
    /// </summary>
    private static (byte[] Json, byte[] Canonical) Encode(JsonObject receipt)
    {
        var json = AuditRecordFormat.SerializeCompact(receipt);
        try
        {
            return (json, JsonCanonicalizer.Canonicalize(json, RecordReceipt));
        }
        catch (JsonParseException e)
        {
            // Only a value built in code can do this (a lone surrogate in a string, say): refuse it before it is written.
            throw new CanonicalizationException($"the receipt cannot be written as verifiable JSON: {e.Reason}", e.Path);
        }
    }

    private static readonly StrictJsonOptions RecordReceipt = new() { MaxDepth = 256 };

    private ValueTask<AuditAppendResult> AppendInline(Pending pending)
    {
        AuditAppendResult result = null!; // filled by WriteLocked, or it throws
        try
        {
            lock (_io)
            {
                if (_closed)
                {
                    throw new ObjectDisposedException(nameof(AuditLog), "the audit log is closed");
                }
                WriteLocked(new ReadOnlySpan<Pending>(ref pending), new Span<AuditAppendResult>(ref result));
            }
        }
        catch (Exception e) when (e is AuditLogFailedException or ObjectDisposedException)
        {
            return ValueTask.FromException<AuditAppendResult>(e);
        }
        return ValueTask.FromResult(result);
    }

    /// <summary>Writes what is queued, fsyncs, and closes the files. Later appends fail.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_queueLock)
        {
            if (_closing)
            {
                goto wait;
            }
            _closing = true;
            if (!_roundScheduled)
            {
                _roundsDone.TrySetResult();
            }
        }
    wait:
        await _roundsDone.Task.ConfigureAwait(false);
        StopRoundThread();
        if (_flushTimer is not null)
        {
            await _flushTimer.DisposeAsync().ConfigureAwait(false);
        }
        bool unsynced;
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
                    // Fail() recorded it; it is thrown below.
                }
            }
            unsynced = _writeSeq > Volatile.Read(ref _syncedSeq);
            if (!unsynced)
            {
                WriteCheckpoint();
            }
            _handle?.Dispose();
            _handle = null;
            _dayLock?.Dispose();
            _dayLock = null;
            _globalLock.Dispose();
            _closed = true;
        }
        // Records whose append completed before an fsync (fast mode, deferred appends) were never confirmed durable:
        // their callers must hear of the failure here.
        if (_failure is { } failure && unsynced)
        {
            throw failure;
        }
    }

    /// <summary>Writes records to the chain (held: <see cref="_io"/>); no fsync. Throws <see cref="AuditLogFailedException"/>.</summary>
    private void WriteLocked(ReadOnlySpan<Pending> records, Span<AuditAppendResult> results)
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

    private void WriteRecords(ReadOnlySpan<Pending> records, Span<AuditAppendResult> results)
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
            RandomAccess.Write(handle, _buffer.WrittenSpan, offset);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leave no partial record behind: cut the file back to the last whole record before failing.
            try
            {
                RandomAccess.SetLength(handle, offset);
            }
            catch (Exception cut) when (cut is IOException or UnauthorizedAccessException)
            {
                LogTruncateFailed(_logger, path, offset, cut.Message);
            }
            throw Fail($"writing to {path} failed", e);
        }

        _cursor = new Cursor(path, offset + _buffer.WrittenCount, line);
        _tailHash = prev;
        _batches++;
        _records += records.Length;
        _writeSeq++;
    }

    /// <summary>
    /// Makes everything written so far durable (not held: <see cref="_io"/>). The handle is pinned while the fsync runs,
    /// so a day switch or close cannot free it underneath.
    /// </summary>
    private void SyncWritten()
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
                    RandomAccess.FlushToDisk(handle);
                    Interlocked.Increment(ref _syncs);
                }
                if (directory)
                {
                    NativeFile.FsyncDirectory(_directory);
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
                RandomAccess.FlushToDisk(_handle);
                Interlocked.Increment(ref _syncs);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Fail($"fsync of {_handlePath} failed", e);
            }
            AdvanceSynced(target);
        }
        if (_directoryDirty)
        {
            try
            {
                NativeFile.FsyncDirectory(_directory);
            }
            catch (IOException e)
            {
                throw Fail($"fsync of the directory {_directory} failed", e);
            }
            _directoryDirty = false;
        }
    }

    private void FlushOnTimer()
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

    private AuditLogFailedException Fail(string what, Exception cause)
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
        _cursor = new Cursor(path, 0, 0);
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
            var (scan, hash) = ScanAndRepair(target, new Cursor(target, 0, 0), null);
            if (hash is not null)
            {
                _tailHash = hash;
            }
            _cursor = new Cursor(target, scan.End, scan.Lines);
        }
        else
        {
            _cursor = new Cursor(target, 0, 0);
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
        if (_handle is not null && string.Equals(_handlePath, path, StringComparison.Ordinal) && !_options.CheckFileByPath &&
            NativeFile.TryStatOpenFile(_handle, out var size, out var links))
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
                ReadOn(path, new Cursor(path, 0, 0));
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
        ReadOn(path, length > _cursor.End ? _cursor : new Cursor(path, 0, 0));
    }

    /// <summary>Reads a day file from a known line start and continues the chain from its last record.</summary>
    private void ReadOn(string path, Cursor from)
    {
        var (scan, hash) = ScanAndRepair(path, from, null);
        if (hash is not null)
        {
            _tailHash = hash;
        }
        else if (from.End == 0)
        {
            _tailHash = LastHashBefore(path);
        }
        _cursor = new Cursor(path, scan.End, scan.Lines);
    }

    private void Recover()
    {
        var dayFiles = AuditRecordFormat.ChainFiles(_directory)
            .Where(f => AuditRecordFormat.IsDayFileName(Path.GetFileName(f)))
            .Reverse()
            .ToArray();
        _cursor = default;
        _tailHash = SignetHash.Genesis;
        if (dayFiles.Length > 0 && TryCheckpoint(dayFiles[0], out var from, out var previous, out var checkpointHash))
        {
            // Only what was appended since the last clean close is read (see AuditLog.Checkpoint.cs).
            RecoveredFrom = from.End;
            var (scan, hash) = ScanAndRepair(dayFiles[0], from, previous);
            if (scan.End >= from.End)
            {
                _cursor = new Cursor(dayFiles[0], scan.End, scan.Lines);
                _tailHash = hash ?? checkpointHash;
                return;
            }
            // Repair cut the file back before the checkpoint: read it all, as without one.
            RecoveredFrom = 0;
        }
        foreach (var file in dayFiles)
        {
            var (scan, hash) = ScanAndRepair(file, new Cursor(file, 0, 0), null);
            if (_cursor.Path is null)
            {
                _cursor = new Cursor(file, scan.End, scan.Lines);
            }
            if (hash is not null)
            {
                _tailHash = hash;
                return;
            }
        }
    }

    private string LastHashBefore(string file)
    {
        var name = Path.GetFileName(file);
        foreach (var older in AuditRecordFormat.ChainFiles(_directory)
                     .Where(f => AuditRecordFormat.IsDayFileName(Path.GetFileName(f)) && string.CompareOrdinal(Path.GetFileName(f), name) < 0)
                     .Reverse())
        {
            var (_, hash) = ScanAndRepair(older, new Cursor(older, 0, 0), null);
            if (hash is not null)
            {
                return hash;
            }
        }
        return SignetHash.Genesis;
    }

    /// <summary>
    /// Scans a file from a known line start, moves a torn last line (no newline) aside, and returns the scan and the
    /// last record's hash if the scanned region holds one. A complete last line that is not a record whose hash matches
    /// its content is refused (<see cref="AuditLogCorruptException"/>), or, when repairing, moved aside and recorded.
    /// </summary>
    private (FileScan Scan, string? LastHash) ScanAndRepair(string path, Cursor from, FileScan? previous)
    {
        while (true)
        {
            var scan = AuditFileScanner.Scan(path, from.End, from.Lines, previous);
            if (scan.HasTornBytes)
            {
                const string reason = "the last line has no newline (a write was cut short)";
                var (saved, _) = MoveAside(path, scan.TornStart, scan.End, AuditRecordFormat.TornSuffix);
                var torn = new AuditTornTail(path, scan.Lines + 1, scan.TornStart, scan.End - scan.TornStart, saved, reason);
                _tornTails.Add(torn);
                LogTornTail(_logger, path, torn.Line, torn.Length, saved, reason);
                scan = scan with { End = scan.TornStart, TornStart = -1 };
            }
            if (!scan.HasContent || scan.LastContentStart < from.End)
            {
                return (scan, null);
            }
            var line = AuditFileScanner.ReadRange(path, scan.LastContentStart, scan.LastContentEnd);
            if (AuditRecordFormat.IsChainableRecord(line, out var hash, out var why))
            {
                return (scan, hash);
            }
            var corrupt = new AuditCorruptLine(path, scan.LastContentLine, scan.LastContentStart, scan.End - scan.LastContentStart, why);
            if (!_repairing)
            {
                LogCorruptTail(_logger, path, corrupt.Line, why);
                throw new AuditLogCorruptException(corrupt);
            }
            var (repairFile, bytes) = MoveAside(path, corrupt.Offset, scan.End, AuditRecordFormat.RepairSuffix);
            var repaired = new AuditRepairedLine(path, corrupt.Line, corrupt.Offset, corrupt.Length,
                "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), repairFile, why);
            _repairs.Add(repaired);
            LogRepaired(_logger, path, repaired.Line, repaired.Length, repairFile, why);
            from = new Cursor(path, 0, 0);
            previous = null;
        }
    }

    /// <summary>
    /// Copies the bytes [start, end) of a day file to a new file beside it (0600, fsynced with its directory entry),
    /// then cuts the day file back to <paramref name="start"/>. On failure nothing partial is left: a copy that could
    /// not be completed is removed, and so is a complete one when the day file could not be cut back (its bytes are
    /// still in the day file).
    /// </summary>
    private (string SavedAs, byte[] Bytes) MoveAside(string path, long start, long end, string suffix)
    {
        var bytes = AuditFileScanner.ReadRange(path, start, end);
        var saved = $"{path}.{start}{suffix}";
        for (var n = 1; File.Exists(saved); n++)
        {
            saved = $"{path}.{start}-{n}{suffix}";
        }
        WriteAside(saved, bytes, path);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            try
            {
                RandomAccess.SetLength(handle, start);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var left = TryDelete(saved);
            throw new IOException($"cannot cut {path} back to {start} bytes: {e.Message}; nothing was removed from it{left}", e);
        }
        using (handle)
        {
            // A failed fsync here keeps the copy: the cut may already be in the page cache, and the copy then holds the only bytes.
            RandomAccess.FlushToDisk(handle);
        }
        return (saved, bytes);
    }

    private void WriteAside(string saved, byte[] bytes, string from)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            // It holds tool arguments, as the log does: only its owner may read it.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        FileStream copy;
        try
        {
            copy = new FileStream(saved, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create {saved} to move bytes of {from} aside: {e.Message}; nothing was removed from {from}", e);
        }
        try
        {
            using (copy)
            {
                copy.Write(bytes);
                copy.Flush(flushToDisk: true);
            }
            NativeFile.FsyncDirectory(_directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var left = TryDelete(saved);
            throw new IOException($"cannot write {saved} to move bytes of {from} aside: {e.Message}; nothing was removed from {from}{left}", e);
        }
    }

    /// <summary>Removes a file of ours; returns "" or what is left behind, for the error message.</summary>
    private static string TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $" (and {path} could not be removed: {e.Message})";
        }
    }

    private readonly record struct Cursor(string? Path, long End, long Lines);

    private class Pending(byte[] json, byte[] canonical)
    {
        public byte[] Json { get; } = json;

        public byte[] Canonical { get; } = canonical;
    }

    [LoggerMessage(1, LogLevel.Debug, "Audit log opened in {Directory} ({Durability}); chain tip {TipHash}")]
    private static partial void LogOpened(ILogger logger, string directory, AuditDurability durability, string tipHash);

    [LoggerMessage(2, LogLevel.Warning, "Torn audit record in {File} at line {Line} ({Length} bytes) moved aside to {SavedAs}: {Reason}")]
    private static partial void LogTornTail(ILogger logger, string file, long line, long length, string savedAs, string reason);

    [LoggerMessage(3, LogLevel.Error, "Audit log writer in {Directory} failed and refuses further appends: {Reason}")]
    private static partial void LogWriterFailed(ILogger logger, string directory, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Audit file {File} shrank from {Expected} to {Actual} bytes behind this writer; re-reading it")]
    private static partial void LogFileShrank(ILogger logger, string file, long expected, long actual);

    [LoggerMessage(6, LogLevel.Error, "Audit file {File} was removed while this writer had it open; recreating it (verify will report the missing records)")]
    private static partial void LogFileRemoved(ILogger logger, string file);

    [LoggerMessage(7, LogLevel.Error, "Audit file {File} was replaced by another file while this writer had it open; continuing the chain from the file now there (verify will report what changed)")]
    private static partial void LogFileReplaced(ILogger logger, string file);

    [LoggerMessage(8, LogLevel.Error, "Audit file {File} line {Line} is complete but cannot be continued from ({Reason}); refusing to append until 'signet log repair' moves it aside")]
    private static partial void LogCorruptTail(ILogger logger, string file, long line, string reason);

    [LoggerMessage(9, LogLevel.Warning, "Repair: corrupt audit line {File} line {Line} ({Length} bytes) moved aside to {SavedAs}: {Reason}")]
    private static partial void LogRepaired(ILogger logger, string file, long line, long length, string savedAs, string reason);

    [LoggerMessage(5, LogLevel.Error, "Could not cut {File} back to {Offset} bytes after a failed write: {Reason}")]
    private static partial void LogTruncateFailed(ILogger logger, string file, long offset, string reason);
}
