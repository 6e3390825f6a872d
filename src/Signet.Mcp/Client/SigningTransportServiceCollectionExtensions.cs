using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ModelContextProtocol.Client;

namespace Signet.Mcp.Client;

/// <summary>Registers a <see cref="SigningTransport"/> in a service collection.</summary>
public static class SigningTransportServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IClientTransport"/> as a singleton <see cref="SigningTransport"/> over the transport
    /// <paramref name="innerTransport"/> makes, with the options <paramref name="options"/> makes. The container
    /// disposes it (and the inner transport, when disposable) with itself.
    /// </summary>
    public static IServiceCollection AddSigningTransport(this IServiceCollection services,
        Func<IServiceProvider, IClientTransport> innerTransport, Func<IServiceProvider, SignetOptions> options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(innerTransport);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(sp => new SigningTransport(innerTransport(sp), options(sp)));
        services.TryAddSingleton<IClientTransport>(sp => sp.GetRequiredService<SigningTransport>());
        return services;
    }
}
