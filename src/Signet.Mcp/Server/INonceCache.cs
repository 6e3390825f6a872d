namespace Signet.Mcp.Server;

/// <summary>Remembers the nonces of accepted receipts, so a captured request cannot be replayed.</summary>
/// <remarks>
/// Implementations are thread-safe and the check-and-record is atomic. One that cannot answer (a shared store that is
/// down) throws <see cref="NonceCacheUnavailableException"/>, and the verifier refuses the call.
/// </remarks>
public interface INonceCache
{
    /// <summary>Records the nonce of a signer; false when it was already recorded and has not expired (a replay).</summary>
    /// <param name="signerKey">The signer's public key text.</param>
    /// <param name="nonce">The receipt's nonce.</param>
    /// <param name="expiresAt">When the entry may be forgotten (after it, the receipt is too old to be accepted anyway).</param>
    bool TryRecord(string signerKey, string nonce, DateTimeOffset expiresAt);

    /// <summary>
    /// Records the nonce as <see cref="TryRecord"/> does, without blocking a thread on a store across the network (the
    /// server filters ask this way). The default calls <see cref="TryRecord"/>.
    /// </summary>
    ValueTask<bool> TryRecordAsync(string signerKey, string nonce, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(TryRecord(signerKey, nonce, expiresAt));
}
