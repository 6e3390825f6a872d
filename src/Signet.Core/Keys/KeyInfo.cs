namespace Signet.Keys;

/// <summary>What is known about a stored key without unlocking it.</summary>
/// <param name="Name">The key's name (the file name without extension).</param>
/// <param name="PublicKey">The public key.</param>
/// <param name="Owner">The owner recorded in the <c>.pub</c> file, or <c>""</c>.</param>
/// <param name="Encrypted">Whether the <c>.key</c> file is passphrase-encrypted.</param>
/// <param name="CreatedAt">The <c>created_at</c> text of the <c>.pub</c> file, if there is one.</param>
/// <param name="KeyFile">The path of the <c>.key</c> file.</param>
public sealed record KeyInfo(string Name, PublicKey PublicKey, string Owner, bool Encrypted, string? CreatedAt, string KeyFile);
