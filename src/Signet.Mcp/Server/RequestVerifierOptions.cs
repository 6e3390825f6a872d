using Signet.Keys;
using Signet.Trust;

namespace Signet.Mcp.Server;

/// <summary>Settings for a <see cref="RequestVerifier"/>.</summary>
/// <remarks>
/// Settable, so that a host can configure them with <c>services.Configure&lt;RequestVerifierOptions&gt;(…)</c>; a
/// verifier takes a copy when it is created, so later changes do not reach it.
/// </remarks>
public sealed class RequestVerifierOptions
{
    /// <summary>The agent keys whose calls are accepted. Required unless <see cref="AllowAnyAgentKey"/> is set.</summary>
    public IReadOnlyList<PublicKey> TrustedAgentKeys { get; set; } = [];

    /// <summary>
    /// A trust bundle to judge agent keys by, at each receipt's <c>ts</c>: a <see cref="Trust.TrustBundle"/>, or a
    /// <see cref="TrustBundleFile"/>, re-read when the file changes so that a revocation applies without a restart
    /// (an unreadable file refuses every call until it is fixed). A key the bundle's agents list is judged by it alone,
    /// even if <see cref="TrustedAgentKeys"/> also names it; a key it does not list falls back to those settings.
    /// </summary>
    public ITrustBundleSource? TrustBundle { get; set; }

    /// <summary>Accept receipts from any key that signs consistently (integrity only; results say they are not trusted).</summary>
    public bool AllowAnyAgentKey { get; set; }

    /// <summary>The oldest a receipt may be (its <c>ts</c> against the server's clock). Default 5 minutes.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How far in the future a receipt's <c>ts</c> may be, for clock differences. Default 30 seconds.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where nonces of accepted receipts are remembered. Default: an in-memory cache of 100,000 entries.</summary>
    public INonceCache? NonceCache { get; set; }

    /// <summary>When set, the receipt's <c>action.target</c> must equal it (this server's URI as agents name it).</summary>
    public string? ExpectedTarget { get; set; }

    /// <summary>The server's clock.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal RequestVerifierOptions Clone() => (RequestVerifierOptions)MemberwiseClone();
}
