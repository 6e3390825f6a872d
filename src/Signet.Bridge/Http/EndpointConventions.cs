using Microsoft.AspNetCore.Builder;

namespace Signet.Bridge.Http;

/// <summary>The conventions of the bridge's endpoints (one per backend), applied to all of them: <c>.RequireAuthorization()</c> and the like.</summary>
internal sealed class EndpointConventions(IReadOnlyList<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
{
    public void Add(Action<EndpointBuilder> convention)
    {
        foreach (var builder in builders)
        {
            builder.Add(convention);
        }
    }

    public void Finally(Action<EndpointBuilder> finallyConvention)
    {
        foreach (var builder in builders)
        {
            builder.Finally(finallyConvention);
        }
    }
}
