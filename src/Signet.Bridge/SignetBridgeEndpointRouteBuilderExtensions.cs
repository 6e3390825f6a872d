using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Signet.Bridge.Http;

// Beside MapMcp() and MapReverseProxy(), so that it is found the same way.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Mounts the Signet bridge registered with <c>services.AddSignetBridge(…)</c> in an ASP.NET Core app.</summary>
public static class SignetBridgeEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps each backend of the bridge under <paramref name="pattern"/>: the only backend named <c>default</c> at
    /// <paramref name="pattern"/> itself, every other one at <c>pattern/&lt;name&gt;</c> (a backend's own <c>Path</c> wins).
    /// Each endpoint answers POST, GET and DELETE as Streamable HTTP, behind the bridge's Host/Origin checks and its bearer
    /// token when one is set.
    /// </summary>
    /// <returns>The conventions of the bridge's endpoints, for example <c>.RequireAuthorization("agents")</c>.</returns>
    /// <remarks>
    /// With no <c>BridgeOptions.Token</c> the app's own authorization must guard these endpoints (<c>RequireAuthorization</c>
    /// here, or a fallback policy); otherwise every request is refused. Calls in flight are signed into the container's
    /// audit log; the sessions' child processes stop when the app's container is disposed.
    /// </remarks>
    public static IEndpointConventionBuilder MapSignetBridge(this IEndpointRouteBuilder endpoints, string pattern = "/mcp")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        if (!pattern.StartsWith('/'))
        {
            throw new ArgumentException($"'{pattern}' must start with '/'", nameof(pattern));
        }
        var dispatcher = endpoints.ServiceProvider.GetService<BridgeDispatcher>()
            ?? throw new InvalidOperationException("MapSignetBridge() needs services.AddSignetBridge(…)");
        var builders = new List<IEndpointConventionBuilder>();
        foreach (var (index, name, path) in dispatcher.Mount(pattern))
        {
            // A configured path is a literal: braces would otherwise be route parameters.
            var route = path.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal);
            builders.Add(endpoints.Map(route, context => dispatcher.HandleAsync(context, index)).WithDisplayName("Signet bridge: " + name));
        }
        return new EndpointConventions(builders);
    }
}
