using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using Signet;
using Signet.Audit;
using Signet.Keys;
using Signet.Mcp;
using Signet.Mcp.Client;
using Signet.Mcp.Hosting;
using Signet.Receipts;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Where the key and the audit log of <c>services.AddSignet(…)</c> come from, and the client transport it signs.</summary>
public static class SignetBuilderExtensions
{
    /// <summary>
    /// Signs with the key <paramref name="keyName"/> of a Signet home, loaded with <c>KeyStore.ForHome(…).Load(…)</c> when it is
    /// first needed (at the latest when the host starts) and disposed by the container. The key's name and owner are the
    /// signer's, unless <see cref="SignetOptions.SignerName"/>/<see cref="SignetOptions.SignerOwner"/> say otherwise.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="keyName">The key's name in the home (<c>signet key new NAME</c>).</param>
    /// <param name="home">The Signet home; default <c>SIGNET_HOME</c>, else <c>~/.signet</c>. Also the default home of <see cref="WithAuditLog"/>.</param>
    /// <param name="passphrase">Where an encrypted key's passphrase comes from; default the <c>SIGNET_PASSPHRASE</c> environment variable.</param>
    public static ISignetBuilder WithKeyFromHome(this ISignetBuilder builder, string keyName, string? home = null, PassphraseSource? passphrase = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyName);
        var resolved = SignetHome.Resolve(home, Environment.GetEnvironmentVariable);
        builder.Services.Configure<SignetHostingOptions>(o => o.Home = resolved);
        builder.Services.TryAddSingleton(services => KeyStore.ForHome(resolved, services.GetService<TimeProvider>())
            .Load(keyName, passphrase ?? PassphraseSource.FromEnvironment()));
        return builder;
    }

    /// <summary>
    /// Makes receipts durable in an <see cref="AuditLog"/> (registered as itself and as the <see cref="IReceiptSink"/>),
    /// opened when first needed and flushed and closed by the container when it is disposed.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="directory">The log's folder; default the <c>audit</c> folder of the home of <see cref="WithKeyFromHome"/>, else of <c>SIGNET_HOME</c> or <c>~/.signet</c>.</param>
    /// <param name="durability">Whether each request receipt is fsynced before its call goes out (the default) or only written.</param>
    public static ISignetBuilder WithAuditLog(this ISignetBuilder builder, string? directory = null, AuditDurability durability = AuditDurability.Durable)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<SignetHostingOptions>();
        builder.Services.TryAddSingleton(services =>
        {
            var folder = directory ?? SignetHome.AuditDirectory(services.GetRequiredService<IOptions<SignetHostingOptions>>().Value.Home
                ?? SignetHome.Resolve(null, Environment.GetEnvironmentVariable));
            var logger = (ILogger?)services.GetService<ILoggerFactory>()?.CreateLogger("Signet.Audit") ?? NullLogger.Instance;
            return AuditLog.Open(Path.GetFullPath(folder),
                new AuditLogOptions { Durability = durability, TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System }, logger);
        });
        builder.Services.TryAddSingleton<IReceiptSink>(services => services.GetRequiredService<AuditLog>());
        return builder;
    }

    /// <summary>
    /// Registers <see cref="IClientTransport"/> (and <see cref="SigningTransport"/>) as a singleton signing transport over the
    /// transport <paramref name="innerTransport"/> makes, from <see cref="SignetClientFactory.CreateTransport"/>. The container
    /// disposes it (and the inner transport, when disposable).
    /// </summary>
    public static ISignetBuilder WithSigningTransport(this ISignetBuilder builder, Func<IServiceProvider, IClientTransport> innerTransport, string? target = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(innerTransport);
        builder.Services.TryAddSingleton(services => services.GetRequiredService<SignetClientFactory>().CreateTransport(innerTransport(services), target));
        builder.Services.TryAddSingleton<IClientTransport>(services => services.GetRequiredService<SigningTransport>());
        return builder;
    }
}
