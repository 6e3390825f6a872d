namespace Signet.Trust;

/// <summary>The <c>status</c> of a trust-bundle entry.</summary>
public enum TrustStatus
{
    /// <summary><c>active</c>: trusted (until its <c>expires_at</c>, if any).</summary>
    Active,

    /// <summary><c>disabled</c>: retired, e.g. rotated out; trusted for receipts signed before <c>disabled_at</c>.</summary>
    Disabled,

    /// <summary><c>revoked</c>: compromised; trusted for receipts signed before <c>revoked_at</c>.</summary>
    Revoked,
}
