namespace Signet.Mcp.Redis;

/// <summary>Settings for a <see cref="RedisNonceCache"/>.</summary>
/// <remarks>
/// Settable, so that a host can bind them from configuration (<c>services.AddSignetRedisNonceCache(configuration)</c>);
/// a cache takes a copy when it is created, so later changes do not reach it.
/// </remarks>
public sealed class RedisNonceCacheOptions
{
    /// <summary>
    /// The StackExchange.Redis configuration string (<c>host:port,password=…,ssl=true</c>), when the cache makes its own
    /// connection. Unset: the cache uses a connection the host gives it (an <c>IConnectionMultiplexer</c>).
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>What goes before the signer key and nonce in each Redis key. Default <c>signet:nonce:</c>.</summary>
    public string KeyPrefix { get; set; } = "signet:nonce:";

    /// <summary>Refuse calls (the default) or accept them unchecked while Redis cannot be reached.</summary>
    public NonceCacheFailureMode FailureMode { get; set; } = NonceCacheFailureMode.FailClosed;

    /// <summary>
    /// How long a check may wait for Redis before it counts as unreachable (StackExchange.Redis's sync and async
    /// timeouts of a connection the cache makes). Default 2 seconds.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one attempt to connect may take (of a connection the cache makes). Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock that turns a nonce's expiry into its TTL.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal RedisNonceCacheOptions Clone() => (RedisNonceCacheOptions)MemberwiseClone();

    /// <summary>What is wrong with these settings (empty when nothing).</summary>
    internal List<string> Problems()
    {
        var problems = new List<string>();
        if (Configuration is { } c && string.IsNullOrWhiteSpace(c))
        {
            problems.Add("RedisNonceCacheOptions.Configuration is empty: set the Redis configuration string (host:port,…), or leave it unset to use the host's IConnectionMultiplexer");
        }
        if (KeyPrefix is null)
        {
            problems.Add("RedisNonceCacheOptions.KeyPrefix is null: set a prefix such as \"signet:nonce:\" (or \"\" for none)");
        }
        if (FailureMode is not (NonceCacheFailureMode.FailClosed or NonceCacheFailureMode.FailOpen))
        {
            problems.Add($"RedisNonceCacheOptions.FailureMode {FailureMode} is not FailClosed or FailOpen");
        }
        if (Timeout <= TimeSpan.Zero || Timeout.TotalMilliseconds > int.MaxValue)
        {
            problems.Add($"RedisNonceCacheOptions.Timeout must be positive, not {Timeout}");
        }
        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout.TotalMilliseconds > int.MaxValue)
        {
            problems.Add($"RedisNonceCacheOptions.ConnectTimeout must be positive, not {ConnectTimeout}");
        }
        if (TimeProvider is null)
        {
            problems.Add("RedisNonceCacheOptions.TimeProvider is null");
        }
        return problems;
    }
}
