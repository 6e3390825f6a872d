using Microsoft.Extensions.DependencyInjection;

namespace Signet.Mcp.Hosting;

/// <summary>The one <see cref="ISignetBuilder"/>: a handle on the service collection.</summary>
internal sealed class SignetBuilder(IServiceCollection services) : ISignetBuilder
{
    public IServiceCollection Services { get; } = services;
}
