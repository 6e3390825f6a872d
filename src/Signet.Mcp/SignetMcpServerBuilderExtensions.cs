using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Signet.Mcp.Server;
using Signet.Receipts;

// Beside the SDK's own AddMcpServer()/With…() builder extensions, so that they are found the same way.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Signet's receipt verification and co-signing to an MCP server built with <c>AddMcpServer()</c>.</summary>
public static class SignetMcpServerBuilderExtensions
{
    /// <summary>
    /// Checks each <c>tools/call</c>'s receipt before the tool runs, with a <see cref="RequestVerifier"/> from the
    /// container: the one registered there, or one made from <see cref="RequestVerifierOptions"/> (set with
    /// <paramref name="configure"/> or <c>services.Configure&lt;RequestVerifierOptions&gt;</c>, validated when the host
    /// starts), with the container's <see cref="INonceCache"/> and <see cref="TimeProvider"/> when it has them.
    /// </summary>
    public static IMcpServerBuilder WithSignetReceiptVerification(this IMcpServerBuilder builder,
        Action<RequestVerifierOptions>? configure = null, RequestVerificationMode mode = RequestVerificationMode.Require)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<RequestVerifierOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RequestVerifierOptions>, RequestVerifierOptionsValidation>());
        builder.Services.TryAddSingleton(services =>
        {
            var settings = services.GetRequiredService<IOptions<RequestVerifierOptions>>().Value;
            if (settings.NonceCache is null && services.GetService<INonceCache>() is { } nonces)
            {
                settings = settings.Clone();
                settings.NonceCache = nonces;
            }
            if (ReferenceEquals(settings.TimeProvider, TimeProvider.System) && services.GetService<TimeProvider>() is { } time)
            {
                settings = settings.Clone();
                settings.TimeProvider = time;
            }
            return new RequestVerifier(settings);
        });
        return builder.WithRequestFilters(filters => filters.AddCallToolFilter(SignetServerFilters.VerifyReceiptsFromServices(mode)));
    }

    /// <summary>Checks each <c>tools/call</c>'s receipt with <paramref name="verifier"/> before the tool runs.</summary>
    public static IMcpServerBuilder WithSignetReceiptVerification(this IMcpServerBuilder builder, RequestVerifier verifier,
        RequestVerificationMode mode = RequestVerificationMode.Require, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var filter = SignetServerFilters.VerifyReceipts(verifier, mode, loggerFactory);
        return builder.WithRequestFilters(filters => filters.AddCallToolFilter(filter));
    }

    /// <summary>
    /// Co-signs the response to each call the verification filter accepted, with the <see cref="SignetCoSigningOptions"/>
    /// of the container (set with <paramref name="configure"/> or <c>services.Configure&lt;SignetCoSigningOptions&gt;</c>;
    /// a missing signer fails when the host starts).
    /// </summary>
    public static IMcpServerBuilder WithSignetCoSigning(this IMcpServerBuilder builder, Action<SignetCoSigningOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<SignetCoSigningOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SignetCoSigningOptions>, SignetCoSigningOptionsValidation>());
        return builder.WithRequestFilters(filters => filters.AddCallToolFilter(SignetServerFilters.CoSignResponsesFromServices()));
    }

    /// <summary>Co-signs the response to each call the verification filter accepted, with <paramref name="serverSigner"/>.</summary>
    public static IMcpServerBuilder WithSignetCoSigning(this IMcpServerBuilder builder, ReceiptSigner serverSigner,
        bool coSignUntrusted = false, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var filter = SignetServerFilters.CoSignResponses(serverSigner, coSignUntrusted, loggerFactory);
        return builder.WithRequestFilters(filters => filters.AddCallToolFilter(filter));
    }
}
