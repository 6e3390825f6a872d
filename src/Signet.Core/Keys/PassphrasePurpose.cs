namespace Signet.Keys;

/// <summary>Why a passphrase is wanted.</summary>
public enum PassphrasePurpose
{
    /// <summary>To decrypt an existing key file.</summary>
    Unlock,

    /// <summary>To encrypt a new key file (an interactive prompt asks twice).</summary>
    Create,

    /// <summary>To log in to a PKCS#11 token with its user PIN (<see cref="PassphraseRequest.KeyName"/> is the token's label).</summary>
    TokenPin,
}
