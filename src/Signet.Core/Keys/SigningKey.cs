using NSec.Cryptography;

namespace Signet.Keys;

/// <summary>An Ed25519 private key held in memory. It never prints its material; dispose it when done.</summary>
/// <remarks>Thread-safe for signing.</remarks>
public sealed class SigningKey : ISigner
{
    private readonly Key _key;

    private SigningKey(Key key)
    {
        _key = key;
        PublicKey = new PublicKey(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    /// <summary>The matching public key.</summary>
    public PublicKey PublicKey { get; }

    /// <summary>Creates a new key from 32 bytes of the given randomness (the system RNG by default).</summary>
    public static SigningKey Generate(RandomSource? random = null)
    {
        Span<byte> seed = stackalloc byte[32];
        try
        {
            (random ?? RandomSource.Cryptographic).Fill(seed);
            return FromSeed(seed);
        }
        finally
        {
            seed.Clear();
        }
    }

    /// <summary>Imports a key from its 32-byte seed (the reference's secret key form).</summary>
    public static SigningKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != 32)
        {
            throw new ArgumentException($"an Ed25519 seed is 32 bytes, not {seed.Length}", nameof(seed));
        }
        var key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return new SigningKey(key);
    }

    /// <inheritdoc/>
    string ISigner.Description => "in-memory key";

    /// <summary>Signs the data (Ed25519, RFC 8032, no prehash); returns the 64-byte signature.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => SignatureAlgorithm.Ed25519.Sign(_key, data);

    /// <summary>Copies the 32-byte seed out, for writing a key file. The caller must clear the buffer.</summary>
    public void ExportSeed(Span<byte> destination)
    {
        var blob = _key.Export(KeyBlobFormat.RawPrivateKey);
        try
        {
            blob.CopyTo(destination);
        }
        finally
        {
            Array.Clear(blob);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _key.Dispose();

    /// <summary>Shows the public key only.</summary>
    public override string ToString() => $"SigningKey({PublicKey})";
}

/// <summary>Ed25519 verification without a key object.</summary>
internal static class Ed25519
{
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != 32 || signature.Length != 64)
        {
            return false;
        }
        if (!NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var key) || key is null)
        {
            return false;
        }
        return SignatureAlgorithm.Ed25519.Verify(key, data, signature);
    }
}
