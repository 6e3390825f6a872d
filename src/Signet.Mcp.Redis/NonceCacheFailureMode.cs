namespace Signet.Mcp.Redis;

/// <summary>What a <see cref="RedisNonceCache"/> does with a call when Redis cannot be reached or does not answer in time.</summary>
public enum NonceCacheFailureMode
{
    /// <summary>Refuse the call: replay cannot be checked (the default).</summary>
    FailClosed,

    /// <summary>Accept the call without a replay check, and log a warning each time.</summary>
    FailOpen,
}
