using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Signet.Bridge.Http;
using Signet.Bridge.Sessions;
using Signet.Mcp;

namespace Signet.Bridge;

/// <summary>
/// The HTTP bridge as a server of its own: Kestrel on <see cref="BridgeOptions.Listen"/>, <c>/healthz</c>, and the
/// bridge's endpoints mounted with <c>MapSignetBridge()</c> (each backend at its path over Streamable HTTP, behind the
/// bearer token and Host/Origin checks, signing every tools/call through an <see cref="IToolCallRecorder"/>). To mount
/// the bridge in an app of your own, use <c>services.AddSignetBridge(…)</c> and <c>app.MapSignetBridge()</c> instead.
/// </summary>
/// <remarks>Stop it with <see cref="StopAsync"/> (calls in flight finish, then every child process is stopped).</remarks>
public sealed class BridgeServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly BridgeDispatcher dispatcher;
    private readonly BridgeOptions options;
    private int stopped;

    private BridgeServer(WebApplication app, BridgeDispatcher dispatcher, BridgeOptions options)
    {
        this.app = app;
        this.dispatcher = dispatcher;
        this.options = options;
    }

    /// <summary>The backends with their public URLs (known after <see cref="StartAsync"/>).</summary>
    public IReadOnlyList<(string Name, Uri Url)> Endpoints => dispatcher.Backends.Select(b => (b.Name, b.Target)).ToList();

    /// <summary>The addresses Kestrel actually bound (port 0 resolved), after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>Completes when the bridge has been asked to stop (for example by <see cref="StopAsync"/>).</summary>
    public CancellationToken Stopping => app.Lifetime.ApplicationStopping;

    internal SessionManager Sessions => dispatcher.Sessions;

    /// <summary>Builds a bridge; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Validated options (see <see cref="BridgeConfig.Validate"/>).</param>
    /// <param name="recorderFactory">Makes the recorder of each backend; it is told the backend's public URL, the receipt target.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <param name="configuration">Optional configuration whose <c>Kestrel</c> section sets certificates and endpoint defaults.</param>
    /// <param name="time">The clock (idle timeouts, keep-alives).</param>
    /// <param name="random">The randomness seam (session ids).</param>
    public static BridgeServer Create(BridgeOptions options, Func<BridgeRecorderTarget, IToolCallRecorder> recorderFactory, ILoggerFactory loggerFactory,
        IConfiguration? configuration = null, TimeProvider? time = null, RandomSource? random = null)
    {
        ArgumentNullException.ThrowIfNull(recorderFactory);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        BridgeConfig.Validate(options);
        var listen = options.Listen.Select(ListenAddress.Parse).ToList();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "Signet.Bridge",
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (configuration is not null)
        {
            builder.Configuration.AddConfiguration(configuration);
        }
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, ExternalLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.Limits.ShutdownTimeout);
        // The same dispatcher MapSignetBridge() mounts in any app, over these options and this recorder factory.
        builder.Services.AddSingleton(new BridgeRecorders(recorderFactory));
        // The clock and randomness go to the bridge only: Kestrel keeps the system clock.
        SignetBridgeServiceCollectionExtensions.AddCore(builder.Services, _ => options, time ?? TimeProvider.System, random ?? RandomSource.Cryptographic);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The body limit is enforced while reading (RequestBody), so that a refusal can name the id at the body's start.
            kestrel.Limits.MaxRequestBodySize = null;
            KestrelListen.Bind(kestrel, listen);
        });
        var app = builder.Build();
        app.MapMethods("/healthz", ["GET", "HEAD"], context =>
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync("ok");
        });
        app.MapSignetBridge();
        app.MapFallback(context => StdioEndpoint.WriteErrorAsync(context, StatusCodes.Status404NotFound, "Not found"));
        return new BridgeServer(app, app.Services.GetRequiredService<BridgeDispatcher>(), options);
    }

    /// <summary>Starts listening; backends' public URLs are fixed here (port 0 is resolved).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        Addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal))).ToList();
        dispatcher.Start(options.PublicUrl is null ? new Uri(Addresses[0], "/") : null);
    }

    /// <summary>Stops taking requests, lets calls in flight finish (up to the shutdown timeout), then stops every child.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref stopped, 1) != 0)
        {
            return;
        }
        try
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await dispatcher.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops (if running) and releases the web host.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The owner (the CLI or a generic host) handles signals; the inner web host must not.</summary>
    private sealed class ExternalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
