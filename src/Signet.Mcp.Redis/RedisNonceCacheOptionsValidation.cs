using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Signet.Mcp.Redis;

/// <summary>Refuses, when the host starts, settings that <see cref="RedisNonceCache"/> would refuse on first use.</summary>
internal sealed class RedisNonceCacheOptionsValidation(IServiceProviderIsService? isService = null) : IValidateOptions<RedisNonceCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisNonceCacheOptions options)
    {
        var failures = options.Problems();
        // Asked of the registrations, not resolved: resolving a connection would connect before the first call needs it.
        if (options.Configuration is null && isService?.IsService(typeof(IConnectionMultiplexer)) != true)
        {
            failures.Add("RedisNonceCacheOptions.Configuration is not set and the container has no IConnectionMultiplexer: set the Redis configuration string (host:port,…), or register the host's connection");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
