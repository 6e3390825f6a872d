using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Signet.Mcp.Redis;
using Signet.Mcp.Server;
using StackExchange.Redis;

// Beside the SDK's AddMcpServer() and Signet's WithSignet…() extensions, so that they are found the same way.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a <see cref="RedisNonceCache"/> as the container's <see cref="INonceCache"/>.</summary>
public static class RedisNonceCacheServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="RedisNonceCache"/> as the container's <see cref="INonceCache"/>, which
    /// <c>WithSignetReceiptVerification()</c> uses: made from <see cref="RedisNonceCacheOptions"/> (set with
    /// <paramref name="configure"/> or <c>services.Configure&lt;RedisNonceCacheOptions&gt;</c>, validated when the host
    /// starts), connecting to <see cref="RedisNonceCacheOptions.Configuration"/>, or else with the container's
    /// <see cref="IConnectionMultiplexer"/>; with the container's <see cref="TimeProvider"/> and logging when it has them.
    /// </summary>
    /// <remarks>The cache is made, and connects, when it is first needed (the first verified call); the container disposes it.</remarks>
    public static IServiceCollection AddSignetRedisNonceCache(this IServiceCollection services, Action<RedisNonceCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RedisNonceCacheOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisNonceCacheOptions>, RedisNonceCacheOptionsValidation>());
        services.TryAddSingleton(services =>
        {
            var settings = services.GetRequiredService<IOptions<RedisNonceCacheOptions>>().Value;
            if (ReferenceEquals(settings.TimeProvider, TimeProvider.System) && services.GetService<TimeProvider>() is { } time)
            {
                settings = settings.Clone();
                settings.TimeProvider = time;
            }
            var logging = services.GetService<ILoggerFactory>();
            return settings.Configuration is not null
                ? new RedisNonceCache(settings, logging)
                : new RedisNonceCache(services.GetRequiredService<IConnectionMultiplexer>(), settings, logging);
        });
        services.Replace(ServiceDescriptor.Singleton<INonceCache>(services => services.GetRequiredService<RedisNonceCache>()));
        return services;
    }

    /// <summary>
    /// Registers a <see cref="RedisNonceCache"/> as <see cref="AddSignetRedisNonceCache(IServiceCollection, Action{RedisNonceCacheOptions}?)"/>
    /// does, with its settings bound from <paramref name="configuration"/> (a section with <c>Configuration</c>,
    /// <c>KeyPrefix</c>, <c>FailureMode</c>, <c>Timeout</c>, <c>ConnectTimeout</c>), then <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddSignetRedisNonceCache(this IServiceCollection services, IConfiguration configuration,
        Action<RedisNonceCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        // Generated binding code (EnableConfigurationBindingGenerator): no reflection, so AOT-published hosts can use it.
        services.AddOptions<RedisNonceCacheOptions>().Bind(configuration);
        return services.AddSignetRedisNonceCache(configure);
    }

    /// <summary>
    /// Keeps the nonces of the server's receipt verification in Redis: <see cref="AddSignetRedisNonceCache(IServiceCollection, Action{RedisNonceCacheOptions}?)"/>
    /// on the server's services, for <c>WithSignetReceiptVerification()</c>.
    /// </summary>
    public static IMcpServerBuilder WithSignetRedisNonceCache(this IMcpServerBuilder builder, Action<RedisNonceCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSignetRedisNonceCache(configure);
        return builder;
    }
}
