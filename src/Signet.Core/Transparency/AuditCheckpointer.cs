using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Audit;

namespace Signet.Transparency;

/// <summary>Options for <see cref="AuditCheckpointer"/>.</summary>
public sealed record AuditCheckpointerOptions
{
    /// <summary>How often a checkpoint is signed when the log grew (default 60 s).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The witnesses to publish each checkpoint to (none by default).</summary>
    public IReadOnlyList<WitnessEndpoint> Witnesses { get; init; } = [];

    /// <summary>The bearer token sent to witnesses that ask for one.</summary>
    public string? WitnessToken { get; init; }

    /// <summary>How long the last publication on close may take (default 10 s): a witness that is down must not hold a shutdown.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock of the interval and of nothing else.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>
/// Signs a checkpoint of an audit log every <see cref="AuditCheckpointerOptions.Interval"/> when it grew, and once
/// more on close, and publishes each to the witnesses. It runs beside the call path: a failure (a witness that is
/// down, a log that no longer extends its checkpoint) is logged, never thrown into a tool call.
/// </summary>
public sealed partial class AuditCheckpointer : IAsyncDisposable
{
    private readonly AuditTree _tree;
    private readonly AuditCheckpoints _store;
    private readonly NoteSigner _signer;
    private readonly WitnessPublisher? _publisher;
    private readonly HttpClient? _http;
    private readonly AuditCheckpointerOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _one = new(1, 1);
    private Task? _loop;
    private int _disposed;

    private AuditCheckpointer(AuditTree tree, AuditCheckpoints store, NoteSigner signer, AuditCheckpointerOptions options, ILogger logger)
    {
        _tree = tree;
        _store = store;
        _signer = signer;
        _options = options;
        _logger = logger;
        if (options.Witnesses.Count > 0)
        {
            _http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            _publisher = new WitnessPublisher(options.Witnesses, new WitnessClient(_http, options.WitnessToken), logger);
        }
    }

    /// <summary>The last result of publishing, or null before the first.</summary>
    public WitnessPublishResult? LastPublished { get; private set; }

    /// <summary>The last checkpoint signed or found, or null before the first.</summary>
    public SignedCheckpoint? Latest { get; private set; }

    /// <summary>
    /// Raised after each new checkpoint is signed and stored (before it is published), on the thread that signed it:
    /// keep handlers short. An exception from a handler is logged, never thrown into the checkpointer.
    /// </summary>
    public event EventHandler<SignedCheckpoint>? CheckpointSigned;

    /// <summary>Opens the tree of the log in <paramref name="auditDirectory"/> (catching its tiles up) and starts the timer.</summary>
    public static AuditCheckpointer Start(string auditDirectory, NoteSigner signer, AuditCheckpointerOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(signer);
        options ??= new AuditCheckpointerOptions();
        if (options.Interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "the checkpoint interval must be positive");
        }
        return Run(AuditTree.Open(auditDirectory), auditDirectory, signer, options, logger);
    }

    /// <summary>
    /// Starts signing checkpoints of an open log, sharing its Merkle tree (<see cref="AuditLog.Tree"/>) so that each
    /// record is hashed once; a log opened without a tree gets one of the checkpointer's own. Dispose the checkpointer
    /// after the log: its last checkpoint then covers every record the log wrote.
    /// </summary>
    public static AuditCheckpointer Start(AuditLog log, NoteSigner signer, AuditCheckpointerOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(signer);
        AuditTree? shared = null;
        try
        {
            shared = log.Tree?.Share();
        }
        catch (ObjectDisposedException)
        {
            // The log closed meanwhile: read the tree from its files.
        }
        return Run(shared ?? AuditTree.Open(log.Directory), log.Directory, signer, options, logger);
    }

    private static AuditCheckpointer Run(AuditTree tree, string auditDirectory, NoteSigner signer, AuditCheckpointerOptions? options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(signer);
        options ??= new AuditCheckpointerOptions();
        if (options.Interval <= TimeSpan.Zero)
        {
            tree.Dispose();
            throw new ArgumentOutOfRangeException(nameof(options), "the checkpoint interval must be positive");
        }
        var checkpointer = new AuditCheckpointer(tree, new AuditCheckpoints(auditDirectory), signer, options, logger ?? NullLogger.Instance);
        checkpointer._loop = checkpointer.RunAsync();
        return checkpointer;
    }

    /// <summary>Signs a checkpoint now (unless the log did not grow) and publishes it; null when that failed (logged).</summary>
    public async Task<SignedCheckpoint?> CheckpointNowAsync(CancellationToken cancellationToken = default)
    {
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            SignedCheckpoint checkpoint;
            try
            {
                var before = Latest?.Checkpoint.Size;
                checkpoint = _store.Create(_tree, _signer);
                if (before != checkpoint.Checkpoint.Size)
                {
                    LogSigned(_logger, checkpoint.Checkpoint.Size, _store.LatestPath);
                }
                Latest = checkpoint;
                if (before != checkpoint.Checkpoint.Size)
                {
                    RaiseSigned(checkpoint);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Beside the call path: whatever failed is reported, and the proxy or bridge runs on.
                LogCheckpointFailed(_logger, e.Message);
                return null;
            }
            if (_publisher is not null && NeedsPublishing(checkpoint))
            {
                try
                {
                    LastPublished = await _publisher.PublishAsync(checkpoint, _tree, _store, cancellationToken).ConfigureAwait(false);
                    Latest = LastPublished.Checkpoint;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogPublishFailed(_logger, checkpoint.Checkpoint.Size, e.Message);
                }
            }
            return Latest;
        }
        finally
        {
            _one.Release();
        }
    }

    /// <summary>Stops the timer, then signs and publishes a last checkpoint (bounded by <see cref="AuditCheckpointerOptions.CloseTimeout"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        using (var timeout = new CancellationTokenSource(_options.CloseTimeout))
        {
            try
            {
                await CheckpointNowAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                LogCloseTimedOut(_logger, _options.CloseTimeout.TotalSeconds);
            }
        }
        _tree.Dispose();
        _http?.Dispose();
        _stop.Dispose();
    }

    private void RaiseSigned(SignedCheckpoint checkpoint)
    {
        try
        {
            CheckpointSigned?.Invoke(this, checkpoint);
        }
        catch (Exception e)
        {
            LogHandlerFailed(_logger, e.Message);
        }
    }

    /// <summary>A checkpoint whose witnesses have not all cosigned it yet is published (again).</summary>
    private bool NeedsPublishing(SignedCheckpoint checkpoint) =>
        _options.Witnesses.Any(w => !checkpoint.Note.Signatures.Any(s => s.KeyName == w.Key.Name && s.KeyId == w.Key.KeyId));

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(_options.Interval, _options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                await CheckpointNowAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Closing: DisposeAsync makes the last checkpoint.
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Signed a checkpoint of the audit log at size {Size} ({Path})")]
    private static partial void LogSigned(ILogger logger, long size, string path);

    [LoggerMessage(2, LogLevel.Error, "Could not sign a checkpoint of the audit log: {Reason}")]
    private static partial void LogCheckpointFailed(ILogger logger, string reason);

    [LoggerMessage(4, LogLevel.Error, "Could not publish the checkpoint of size {Size} to the witnesses: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, long size, string reason);

    [LoggerMessage(5, LogLevel.Warning, "A CheckpointSigned handler failed: {Reason}")]
    private static partial void LogHandlerFailed(ILogger logger, string reason);

    [LoggerMessage(3, LogLevel.Warning, "The last checkpoint on close was not finished within {Seconds} s (a witness may be down)")]
    private static partial void LogCloseTimedOut(ILogger logger, double seconds);
}
