namespace Signet.Mcp.Server;

/// <summary>
/// Thrown by an <see cref="INonceCache"/> that cannot answer (a shared store that is down or too slow): replay cannot be
/// checked, so <see cref="RequestVerifier"/> refuses the call (<see cref="RequestRejection.NonceCacheUnavailable"/>)
/// with this message as the reason.
/// </summary>
public sealed class NonceCacheUnavailableException : SignetException
{
    /// <summary>Creates an exception whose message names the store and what to do.</summary>
    public NonceCacheUnavailableException(string message) : base(message) { }

    /// <summary>Creates an exception whose message names the store and what to do, with the store client's error.</summary>
    public NonceCacheUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}
