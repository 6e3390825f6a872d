using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Signet;
using Signet.Bridge;
using Signet.Bridge.Http;
using Signet.Mcp;
using Signet.Mcp.Recording;

// Beside AddMcpServer() and AddReverseProxy(), so that it is found the same way.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Signet bridge in an ASP.NET Core app: <c>services.AddSignetBridge(…)</c>, then <c>app.MapSignetBridge()</c>.</summary>
public static class SignetBridgeServiceCollectionExtensions
{
    /// <summary>
    /// Registers the bridge: <see cref="BridgeOptions"/> through the options pattern (set with <paramref name="configure"/> or
    /// <c>services.Configure&lt;BridgeOptions&gt;</c>, checked when the host starts), its sessions, and each backend's recorder
    /// made from the container's <c>services.AddSignet(…)</c> registrations (key, audit log, policies), with the backend's
    /// public URL as the target and transport <c>http</c>. Map its endpoints with <c>MapSignetBridge()</c>.
    /// </summary>
    /// <remarks>
    /// The app brings Kestrel, TLS, authentication and health checks. The bridge keeps its Host/Origin checks, and checks
    /// its own bearer token whenever <see cref="BridgeOptions.Token"/> is set. Leave the token unset only when the app
    /// applies its own authorization to the mapped endpoints (<c>MapSignetBridge().RequireAuthorization(…)</c> or a fallback
    /// policy): without either, the bridge refuses every request (403) rather than serve anyone. In a host the recording
    /// policies come from <c>AddSignet</c>'s <see cref="SignetOptions"/>, with <see cref="BridgeOptions.FailOpen"/> and
    /// <see cref="BridgeOptions.SyncResponseReceipts"/> applied on top; <see cref="BridgeOptions.Listen"/> only names the
    /// hosts allowed in Host/Origin (with <see cref="BridgeOptions.PublicUrl"/> and <see cref="BridgeOptions.AllowedHosts"/>).
    /// </remarks>
    public static IServiceCollection AddSignetBridge(this IServiceCollection services, Action<BridgeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<BridgeOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BridgeOptions>, BridgeOptionsValidation>());
        services.TryAddSingleton(FromSignet);
        AddCore(services, sp => sp.GetRequiredService<IOptions<BridgeOptions>>().Value);
        return services;
    }

    /// <summary>
    /// Registers the bridge as <see cref="AddSignetBridge(IServiceCollection, Action{BridgeOptions}?)"/> does, with its options
    /// bound from <paramref name="configuration"/> (a section shaped like the bridge config file, such as <c>Bridge</c>;
    /// unknown keys are errors), then <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddSignetBridge(this IServiceCollection services, IConfiguration configuration, Action<BridgeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var source = configuration is IConfigurationSection section ? section.Path : "configuration";
        services.AddOptions<BridgeOptions>().Configure(o => BridgeConfig.BindInto(configuration, o, source));
        return services.AddSignetBridge(configure);
    }

    /// <summary>The dispatcher over <paramref name="options"/>; <see cref="BridgeServer.Create"/> registers it with fixed options.</summary>
    internal static void AddCore(IServiceCollection services, Func<IServiceProvider, BridgeOptions> options, TimeProvider? time = null, RandomSource? random = null) =>
        services.TryAddSingleton(sp => new BridgeDispatcher(
            options(sp),
            sp.GetRequiredService<BridgeRecorders>().Create,
            sp,
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            time ?? sp.GetService<TimeProvider>() ?? TimeProvider.System,
            random ?? sp.GetService<RandomSource>() ?? RandomSource.Cryptographic,
            sp.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None));

    /// <summary>Each backend's recorder from the container's <c>AddSignet</c> registrations.</summary>
    private static BridgeRecorders FromSignet(IServiceProvider services)
    {
        var signet = services.GetService<SignetClientFactory>()
            ?? throw new InvalidOperationException("AddSignetBridge() signs with the container's Signet registrations: call services.AddSignet(…) too");
        var bridge = services.GetRequiredService<IOptions<BridgeOptions>>().Value;
        return new BridgeRecorders(target => signet.CreateRecorder(target.Target.ToString(), "http", settings =>
        {
            if (bridge.FailOpen)
            {
                settings.FailureMode = RecordingFailureMode.FailOpen;
            }
            settings.SyncResponseReceipts |= bridge.SyncResponseReceipts;
        }));
    }
}
