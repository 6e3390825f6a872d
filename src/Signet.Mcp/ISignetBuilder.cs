// Beside the SDK's IMcpServerBuilder, so that AddSignet(…).With…() reads like AddMcpServer(…).With…().
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>What <c>services.AddSignet(…)</c> returns: chain <c>.WithKeyFromHome(…)</c>, <c>.WithAuditLog(…)</c> and <c>.WithSigningTransport(…)</c> on it.</summary>
public interface ISignetBuilder
{
    /// <summary>The service collection Signet is registered in.</summary>
    IServiceCollection Services { get; }
}
