namespace Signet.Keys;

/// <summary>A key unlocked from the store: the signing key with the name and owner that receipts carry.</summary>
/// <remarks>Owns <see cref="Key"/>; dispose it when done.</remarks>
public sealed class LoadedKey : IDisposable
{
    internal LoadedKey(string name, string owner, SigningKey key)
    {
        Name = name;
        Owner = owner;
        Key = key;
    }

    /// <summary>The key's name (the receipt's <c>signer.name</c>).</summary>
    public string Name { get; }

    /// <summary>The owner from the <c>.pub</c> file, or <c>""</c> (the receipt's <c>signer.owner</c>).</summary>
    public string Owner { get; }

    /// <summary>The private key.</summary>
    public SigningKey Key { get; }

    /// <summary>The public key.</summary>
    public PublicKey PublicKey => Key.PublicKey;

    /// <inheritdoc/>
    public void Dispose() => Key.Dispose();

    /// <summary>Shows the name and public key only.</summary>
    public override string ToString() => $"LoadedKey({Name}, {PublicKey})";
}
