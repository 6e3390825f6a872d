using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Signet.Mcp;
using Signet.Mcp.Hosting;

// Beside the SDK's AddMcpServer() and the framework's Add…() extensions, so that they are found the same way.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Signet in a service collection: <c>services.AddSignet(…)</c>.</summary>
public static class SignetServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="SignetOptions"/> (set with <paramref name="configure"/> or <c>services.Configure&lt;SignetOptions&gt;</c>,
    /// checked with <see cref="SignetOptions.Problems(bool)"/> when the host starts) and a <see cref="SignetClientFactory"/> that
    /// makes signing transports and recorders from them, with the container's key, audit log, <see cref="TimeProvider"/> and logging.
    /// </summary>
    /// <remarks>
    /// The key comes from the options (<see cref="SignetOptions.Key"/>, <see cref="SignetOptions.KeySigner"/> or
    /// <see cref="SignetOptions.Signer"/>), else from the container (a <see cref="Signet.Receipts.ReceiptSigner"/>, a
    /// <see cref="Signet.Keys.SigningKey"/>, an <see cref="Signet.Keys.ISigner"/> such as a PKCS#11 key, or
    /// <c>.WithKeyFromHome(…)</c>); receipts go to <see cref="SignetOptions.AuditLog"/>, else to the container's
    /// <see cref="Signet.Receipts.IReceiptSink"/> (<c>.WithAuditLog(…)</c>).
    /// </remarks>
    public static ISignetBuilder AddSignet(this IServiceCollection services, Action<SignetOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SignetOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SignetOptions>, SignetOptionsValidation>());
        services.TryAddSingleton(sp => new SignetClientFactory(sp));
        return new SignetBuilder(services);
    }

    /// <summary>
    /// Registers Signet as <see cref="AddSignet(IServiceCollection, Action{SignetOptions}?)"/> does, with the policies bound
    /// from <paramref name="configuration"/> (a section such as <c>Signet</c>: <c>SignerName</c>, <c>SignerOwner</c>,
    /// <c>FailureMode</c>, <c>MetaKeyMode</c>, <c>RequireCoSignature</c>, <c>SyncResponseReceipts</c>, <c>MaxPendingCalls</c>, …),
    /// then <paramref name="configure"/>.
    /// </summary>
    public static ISignetBuilder AddSignet(this IServiceCollection services, IConfiguration configuration, Action<SignetOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        // Generated binding code (EnableConfigurationBindingGenerator): no reflection, so AOT-published hosts can use it.
        services.AddOptions<SignetOptions>().Bind(configuration);
        return services.AddSignet(configure);
    }
}
