using Signet.Keys;

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
