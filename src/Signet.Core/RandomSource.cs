using System.Security.Cryptography;

namespace Signet;

/// <summary>The one seam for randomness (nonces, salts, new keys), so tests can be deterministic.</summary>
public abstract class RandomSource
{
    /// <summary>The operating system's cryptographic RNG.</summary>
    public static RandomSource Cryptographic { get; } = new SystemRandomSource();

    /// <summary>Fills the buffer with random bytes.</summary>
    public abstract void Fill(Span<byte> buffer);

    private sealed class SystemRandomSource : RandomSource
    {
        public override void Fill(Span<byte> buffer) => RandomNumberGenerator.Fill(buffer);
    }
}
