using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Canonicalization;
using Signet.Transparency;

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
/// <para>Inside, three internal parts do the work: <c>AuditChain</c> (the chain file and its cursor, the locks, write and
/// fsync), <c>AuditRecovery</c> (torn tails, corrupt last lines, the tail checkpoint) and <c>AuditGroupCommit</c>
/// (rounds of durable appends sharing an fsync, deferred appends, the flush timer).</para>
/// </remarks>
public sealed partial class AuditLog : IAsyncDisposable, Signet.Receipts.IReceiptSink
{
    /// <summary>The lock file every writer of this implementation takes first (not <c>*.jsonl</c>, so no walker reads it).</summary>
    public const string AppendLockFileName = "append.lock";

    private static readonly StrictJsonOptions RecordReceipt = new() { MaxDepth = 256 };

    private readonly AuditLogOptions _options;
    private readonly AuditChain _chain;
    private readonly AuditGroupCommit _commit;
    private readonly AuditTree? _tree;
    private readonly ITimer? _treeTimer;
    private readonly ILogger _logger;
    private readonly object _treeLock = new();
    private long _treeRecords;
    private int _disposed;

    private AuditLog(AuditLogOptions options, AuditChain chain, AuditTree? tree, ILogger logger)
    {
        _options = options;
        _chain = chain;
        _logger = logger;
        _commit = new AuditGroupCommit(chain, options);
        _tree = tree;
        if (tree is not null)
        {
            _treeTimer = options.TimeProvider.CreateTimer(static s => ((AuditLog)s!).CatchUpTreeOnTimer(), this,
                options.FastFlushInterval, options.FastFlushInterval);
        }
    }

    /// <summary>
    /// The Merkle tree over this log (tiles in <c>audit/tile/</c>), or null when <see cref="AuditLogOptions.Tree"/> is off.
    /// It is caught up on the flush timer and on close, so it may lag the last appends by one flush interval; call
    /// <see cref="AuditTree.CatchUp"/> for the records written so far.
    /// </summary>
    public AuditTree? Tree => _tree;

    /// <summary>The audit directory.</summary>
    public string Directory => _chain.Directory;

    /// <summary>The durability mode.</summary>
    public AuditDurability Durability => _options.Durability;

    /// <summary>The <c>record_hash</c> of the last record this writer knows of (genesis for an empty log).</summary>
    public string TipHash => _chain.TipHash;

    /// <summary>Batches written, records written and fsyncs done by this writer (for benchmarks and diagnostics).</summary>
    internal (long Batches, long Records, long Syncs) Statistics => _chain.Statistics;

    /// <summary>Torn tails this writer found and moved aside (on open, or left by another process that crashed).</summary>
    public IReadOnlyList<AuditTornTail> RecoveredTornTails => _chain.RecoveredTornTails;

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
        OpenCore(auditDirectory, options, logger, AuditFiles.System, repairing: false);

    /// <summary>Opens the log with other file operations than the system's (a test's simulated disk failure).</summary>
    internal static AuditLog OpenWithFiles(string auditDirectory, AuditLogOptions? options, ILogger? logger, IAuditFiles files) =>
        OpenCore(auditDirectory, options, logger, files, repairing: false);

    private static AuditLog OpenCore(string auditDirectory, AuditLogOptions? options, ILogger? logger, IAuditFiles files, bool repairing)
    {
        ArgumentException.ThrowIfNullOrEmpty(auditDirectory);
        options ??= new AuditLogOptions();
        if (options.MaxBatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxBatchSize must be at least 1");
        }
        var directory = Path.GetFullPath(auditDirectory);
        logger ??= NullLogger.Instance;
        AuditChain chain;
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
                    files.FsyncDirectory(parent);
                }
            }
            chain = new AuditChain(directory, options, logger, files, repairing);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SignetException($"cannot open the audit log in {directory}: {e.Message.TrimEnd('.')}. Check that the directory exists, is writable and is not full.", e);
        }

        try
        {
            chain.Recover();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SignetException($"cannot recover the audit log in {directory}: {e.Message}", e);
        }

        AuditTree? tree = null;
        if (options.Tree && !repairing)
        {
            try
            {
                tree = AuditTree.Open(directory);
            }
            catch
            {
                chain.Close();
                throw;
            }
            if (tree.OpenCatchUp.Rebuilt && tree.OpenCatchUp.RebuildReason is { } reason)
            {
                LogTreeRebuilt(logger, directory, reason, tree.OpenCatchUp.TilesRepaired);
            }
        }
        var log = new AuditLog(options, chain, tree, logger);
        LogOpened(logger, directory, options.Durability, chain.TipHash);
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
        if (_chain.Failure is { } failure)
        {
            return ValueTask.FromException<AuditAppendResult>(failure);
        }
        var (json, canonical) = Encode(receipt);
        return _commit.AppendDurable(json, canonical, ct);
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
        if (_chain.Failure is { } failure)
        {
            return ValueTask.FromException<AuditAppendResult>(failure);
        }
        var (json, canonical) = Encode(receipt);
        return _commit.AppendDeferred(json, canonical);
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

    /// <summary>Writes what is queued, fsyncs, and closes the files. Later appends fail.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            // A container and its owner may both dispose it; the files were closed the first time.
            return;
        }
        await _commit.CloseAsync().ConfigureAwait(false);
        var unsynced = _chain.Close();
        if (_tree is not null)
        {
            await _treeTimer!.DisposeAsync().ConfigureAwait(false);
            CatchUpTree();
            _tree.Dispose();
        }
        // Records whose append completed before an fsync (fast mode, deferred appends) were never confirmed durable:
        // their callers must hear of the failure here.
        if (_chain.Failure is { } failure && unsynced)
        {
            throw failure;
        }
    }

    /// <summary>
    /// Moves every corrupt last line aside, as many as there are from the end of the newest day file (each into
    /// <c>YYYY-MM-DD.jsonl.&lt;offset&gt;.corrupt</c>, 0600, fsynced), then appends, durably, one record of each move:
    /// the receipt <paramref name="recordRepair"/> makes for it (the CLI signs a v1 receipt for the tool
    /// <c>signet.log.repair</c>). With nothing to repair, it changes nothing and returns an empty result.
    /// </summary>
    /// <remarks>
    /// The lines are moved under the log's lock; the records are appended right after, as any append is. If the
    /// process stops in between, the <c>.corrupt</c> files stay, and <see cref="AuditVerifier.Verify"/> lists them.
    /// </remarks>
    /// <exception cref="SignetException">A line could not be moved aside (the message says why; no partial file is left).</exception>
    /// <exception cref="AuditLogFailedException">A record of the repair could not be written.</exception>
    public static async Task<AuditRepairResult> RepairAsync(
        string auditDirectory,
        Func<AuditRepairedLine, JsonObject> recordRepair,
        AuditLogOptions? options = null,
        ILogger? logger = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(recordRepair);
        var log = OpenCore(auditDirectory, options, logger, AuditFiles.System, repairing: true);
        await using (log.ConfigureAwait(false))
        {
            // Only what open found is repaired: a line that turns corrupt later stops this writer as it stops any.
            var moved = log._chain.EndRepair();
            var repaired = new List<AuditRepair>(moved.Count);
            foreach (var line in moved)
            {
                var record = await log.AppendAsync(recordRepair(line), ct).ConfigureAwait(false);
                repaired.Add(new AuditRepair(line, record));
            }
            return new AuditRepairResult { Repaired = repaired, TornTails = log.RecoveredTornTails };
        }
    }

    /// <summary>Catches the tree up off the callers' path when this writer wrote since the last catch-up.</summary>
    private void CatchUpTreeOnTimer()
    {
        if (_chain.Statistics.Records != Volatile.Read(ref _treeRecords))
        {
            CatchUpTree();
        }
    }

    private void CatchUpTree()
    {
        if (!Monitor.TryEnter(_treeLock))
        {
            return;
        }
        try
        {
            var records = _chain.Statistics.Records;
            var result = _tree!.CatchUp();
            Volatile.Write(ref _treeRecords, records);
            if (result.Rebuilt && result.RebuildReason is { } reason)
            {
                LogTreeRebuilt(_logger, Directory, reason, result.TilesRepaired);
            }
        }
        catch (Exception e) when (e is SignetException or IOException or UnauthorizedAccessException)
        {
            // The tiles are derived from the records: failing to extend them never fails an append.
            LogTreeFailed(_logger, Directory, e.Message);
        }
        finally
        {
            Monitor.Exit(_treeLock);
        }
    }

    [LoggerMessage(10, LogLevel.Warning, "The Merkle tree of the audit log in {Directory} was rebuilt from the records ({Reason}); {Repaired} tiles rewritten")]
    private static partial void LogTreeRebuilt(ILogger logger, string directory, string reason, int repaired);

    [LoggerMessage(11, LogLevel.Warning, "The Merkle tree of the audit log in {Directory} could not be caught up: {Reason}")]
    private static partial void LogTreeFailed(ILogger logger, string directory, string reason);

    [LoggerMessage(1, LogLevel.Debug, "Audit log opened in {Directory} ({Durability}); chain tip {TipHash}")]
    private static partial void LogOpened(ILogger logger, string directory, AuditDurability durability, string tipHash);
}
