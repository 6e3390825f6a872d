namespace Signet.Trust;

/// <summary>Where a long-running verifier gets the trust bundle for each check: a fixed bundle, or a file that is re-read when it changes.</summary>
public interface ITrustBundleSource
{
    /// <summary>The bundle to judge the next receipt by.</summary>
    /// <exception cref="TrustBundleException">The bundle cannot be read (a verifier then refuses, it does not fall back).</exception>
    TrustBundle Current { get; }
}
