using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Signet.Transparency;

/// <summary>What one witness did with a checkpoint.</summary>
/// <param name="Witness">The witness.</param>
/// <param name="Cosignature">Its verified cosignature, or null.</param>
/// <param name="Error">Why it did not cosign, or null.</param>
public sealed record WitnessOutcome(WitnessEndpoint Witness, NoteSignature? Cosignature, WitnessException? Error);

/// <summary>The result of publishing one checkpoint: the checkpoint as stored with the cosignatures, and each witness's outcome.</summary>
/// <param name="Checkpoint">The checkpoint with every cosignature gathered (stored when the store still holds it).</param>
/// <param name="Outcomes">One per witness, in the order they were given.</param>
public sealed record WitnessPublishResult(SignedCheckpoint Checkpoint, IReadOnlyList<WitnessOutcome> Outcomes);

/// <summary>
/// Publishes a log's checkpoints to its witnesses and adds their cosignatures to the stored checkpoint. Each witness
/// is asked in parallel with the consistency proof from the size it last cosigned; a 409 teaches that size and the
/// request is made once more with the right proof. A witness that is down or refuses is reported, never fatal.
/// </summary>
/// <remarks>Thread-safe; publishes one checkpoint at a time.</remarks>
public sealed partial class WitnessPublisher
{
    private readonly IReadOnlyList<WitnessEndpoint> _witnesses;
    private readonly WitnessClient _client;
    private readonly ILogger _logger;
    private readonly Dictionary<WitnessEndpoint, long> _knownSizes = [];
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>A publisher to <paramref name="witnesses"/> through <paramref name="client"/>.</summary>
    public WitnessPublisher(IReadOnlyList<WitnessEndpoint> witnesses, WitnessClient client, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(witnesses);
        ArgumentNullException.ThrowIfNull(client);
        _witnesses = witnesses;
        _client = client;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The witnesses.</summary>
    public IReadOnlyList<WitnessEndpoint> Witnesses => _witnesses;

    /// <summary>
    /// Asks every witness to cosign <paramref name="checkpoint"/> (proofs come from <paramref name="tree"/>, which
    /// holds at least its size) and adds the cosignatures to <paramref name="store"/> when given.
    /// </summary>
    public async Task<WitnessPublishResult> PublishAsync(SignedCheckpoint checkpoint, AuditTree tree, AuditCheckpoints? store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(tree);
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var outcomes = await Task.WhenAll(_witnesses.Select(w => PublishToAsync(w, checkpoint, tree, cancellationToken))).ConfigureAwait(false);
            var cosignatures = outcomes.Where(o => o.Cosignature is not null).Select(o => o.Cosignature!).ToList();
            var result = checkpoint;
            if (cosignatures.Count > 0)
            {
                result = store?.AddCosignatures(checkpoint, cosignatures)
                    ?? checkpoint.WithSignatures(cosignatures);
            }
            return new WitnessPublishResult(result, outcomes);
        }
        finally
        {
            _one.Release();
        }
    }

    private async Task<WitnessOutcome> PublishToAsync(WitnessEndpoint witness, SignedCheckpoint checkpoint, AuditTree tree, CancellationToken cancellationToken)
    {
        var size = checkpoint.Checkpoint.Size;
        long old;
        lock (_knownSizes)
        {
            old = _knownSizes.GetValueOrDefault(witness);
        }
        // Two tries: the first with the size last seen (0 at first), the second with the size a 409 names.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (old > size)
                {
                    throw new WitnessException(WitnessFailureKind.Conflict,
                        $"witness {witness.Key.Name} has cosigned size {old}, more than this log's {size} records: the log was cut short or rolled back since (or another log signs with this origin)",
                        latestSize: old);
                }
                var proof = old == 0 || old == size ? (IReadOnlyList<byte[]>)[] : tree.ConsistencyProof(old, size);
                var cosignature = await _client.AddCheckpointAsync(witness, old, proof, checkpoint, cancellationToken).ConfigureAwait(false);
                lock (_knownSizes)
                {
                    _knownSizes[witness] = size;
                }
                LogCosigned(_logger, witness.Key.Name, size);
                return new WitnessOutcome(witness, cosignature, null);
            }
            catch (WitnessException e) when (e.Kind == WitnessFailureKind.Conflict && e.LatestSize is { } latest && latest != old && attempt == 0)
            {
                old = latest;
            }
            catch (WitnessException e)
            {
                if (e.Kind == WitnessFailureKind.Refused && e.StatusCode == 422)
                {
                    LogForkReported(_logger, witness.Key.Name, size, e.Message);
                }
                else
                {
                    LogNotCosigned(_logger, witness.Key.Name, size, e.Message);
                }
                return new WitnessOutcome(witness, null, e);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Witness {Witness} cosigned the checkpoint of size {Size}")]
    private static partial void LogCosigned(ILogger logger, string witness, long size);

    [LoggerMessage(2, LogLevel.Warning, "Witness {Witness} did not cosign the checkpoint of size {Size}: {Reason}")]
    private static partial void LogNotCosigned(ILogger logger, string witness, long size, string reason);

    [LoggerMessage(3, LogLevel.Critical, "Witness {Witness} refused the checkpoint of size {Size} as inconsistent with what it cosigned before: {Reason}")]
    private static partial void LogForkReported(ILogger logger, string witness, long size, string reason);
}
