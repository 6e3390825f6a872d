namespace Signet.Mcp.Server;

/// <summary>Why a call's receipt was not accepted.</summary>
public enum RequestRejection
{
    /// <summary>Accepted.</summary>
    None,

    /// <summary>The call carries no receipt.</summary>
    Unsigned,

    /// <summary>The receipt is malformed, its signature does not verify, or a strict check failed.</summary>
    InvalidReceipt,

    /// <summary>The receipt is a valid signature by a key that is not trusted.</summary>
    UntrustedKey,

    /// <summary>The receipt is past its <c>exp</c>, older than the maximum age, or dated in the future.</summary>
    NotFresh,

    /// <summary>The receipt names another target.</summary>
    WrongTarget,

    /// <summary>The receipt signs another tool or other arguments than the call carries.</summary>
    CallMismatch,

    /// <summary>The receipt was already used.</summary>
    Replayed,

    /// <summary>The nonce cache could not be reached (a shared store is down), so replay could not be checked.</summary>
    NonceCacheUnavailable,
}
