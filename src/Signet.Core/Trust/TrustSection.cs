namespace Signet.Trust;

/// <summary>The sections of a trust bundle: which role a key is trusted in.</summary>
public enum TrustSection
{
    /// <summary><c>roots</c>: delegation roots (v4 receipts).</summary>
    Roots,

    /// <summary><c>agents</c>: receipt signers (v1, v2, v4 signers and the agent inside a v3).</summary>
    Agents,

    /// <summary><c>servers</c>: co-signing servers (v3).</summary>
    Servers,
}
