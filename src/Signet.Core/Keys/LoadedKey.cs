namespace Signet.Keys;

/// <summary>A key ready to sign: the signer (a key file unlocked from the store, or a PKCS#11 token key) with the name and owner that receipts carry.</summary>
/// <remarks>Owns <see cref="Signer"/>; dispose it when done.</remarks>
public sealed class LoadedKey : IDisposable
{
    internal LoadedKey(string name, string owner, ISigner signer)
    {
        Name = name;
        Owner = owner;
        Signer = signer;
    }

    /// <summary>The key's name (the receipt's <c>signer.name</c>).</summary>
    public string Name { get; }

    /// <summary>The owner from the <c>.pub</c> file, or <c>""</c> (the receipt's <c>signer.owner</c>).</summary>
    public string Owner { get; }

    /// <summary>The key that signs.</summary>
    public ISigner Signer { get; }

    /// <summary>The private key, when it is held in memory (a key file).</summary>
    /// <exception cref="InvalidOperationException">The key lives elsewhere (a PKCS#11 token): sign with <see cref="Signer"/>.</exception>
    public SigningKey Key => Signer as SigningKey
        ?? throw new InvalidOperationException($"key \"{Name}\" is not held in memory ({Signer.Description}); sign with LoadedKey.Signer");

    /// <summary>The public key.</summary>
    public PublicKey PublicKey => Signer.PublicKey;

    /// <inheritdoc/>
    public void Dispose() => Signer.Dispose();

    /// <summary>Shows the name and public key only.</summary>
    public override string ToString() => $"LoadedKey({Name}, {PublicKey})";
}
