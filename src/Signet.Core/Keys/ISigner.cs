namespace Signet.Keys;

/// <summary>
/// An Ed25519 private key that signs, wherever it lives: in memory (<see cref="SigningKey"/>), in a PKCS#11 token, or
/// in another process. Everything that signs (receipts, bundle manifests) takes one.
/// </summary>
/// <remarks>
/// Implementations are thread-safe for <see cref="Sign"/>. A signer that cannot sign (a token removed, a session lost)
/// throws <see cref="SignetException"/>; a caller that must not lose evidence treats that as a failed receipt.
/// </remarks>
public interface ISigner : IDisposable
{
    /// <summary>The matching public key.</summary>
    PublicKey PublicKey { get; }

    /// <summary>Where the key lives, for messages (never secret material): <c>in-memory key</c>, a PKCS#11 URI, ….</summary>
    string Description { get; }

    /// <summary>
    /// True when a signature waits on another process or a device (a signer agent, a PKCS#11 token), so that a caller
    /// on a loop that other work queues behind (a proxy reading its client) signs off that loop. False by default: an
    /// in-memory signature is cheaper than the thread hop.
    /// </summary>
    bool SignsOutOfProcess => false;

    /// <summary>Signs the data (Ed25519, RFC 8032, no prehash); returns the 64-byte signature.</summary>
    /// <exception cref="SignetException">The key cannot sign now (the message says why).</exception>
    byte[] Sign(ReadOnlySpan<byte> data);
}
