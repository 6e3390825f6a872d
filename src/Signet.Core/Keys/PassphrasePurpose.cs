namespace Signet.Keys;

/// <summary>Why a passphrase is wanted.</summary>
public enum PassphrasePurpose
{
    /// <summary>To decrypt an existing key file.</summary>
    Unlock,

    /// <summary>To encrypt a new key file (an interactive prompt asks twice).</summary>
    Create,
}
