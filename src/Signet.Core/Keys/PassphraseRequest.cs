namespace Signet.Keys;

/// <summary>What a <see cref="PassphraseSource"/> is asked for: which key, which file, and why.</summary>
/// <param name="KeyName">The key's name.</param>
/// <param name="KeyFile">The path of the <c>.key</c> file.</param>
/// <param name="Purpose">Unlock an existing key or encrypt a new one.</param>
public sealed record PassphraseRequest(string KeyName, string KeyFile, PassphrasePurpose Purpose);
