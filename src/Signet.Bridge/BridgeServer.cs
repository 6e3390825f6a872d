using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Signet.Bridge.Http;
using Signet.Bridge.Sessions;
using Signet.Mcp;

namespace Signet.Bridge;

/// <summary>
/// The HTTP bridge: Kestrel serving each backend at its path over Streamable HTTP, behind the bearer token and
/// Host/Origin checks, signing every tools/call through an <see cref="IToolCallRecorder"/> before it is forwarded.
/// </summary>
/// <remarks>Stop it with <see cref="StopAsync"/> (calls in flight finish, then every child process is stopped).</remarks>
public sealed class BridgeServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly SessionManager sessions;
    private readonly List<BridgeBackend> backends = new();
    private readonly BridgeOptions options;
    private readonly List<ListenAddress> listen;
    private readonly Func<BridgeRecorderTarget, IToolCallRecorder> recorderFactory;
    private readonly ILogger logger;
    private RequestGuard? guard;
    private RemoteEndpoint? remote;
    private int stopped;

    private BridgeServer(WebApplication app, SessionManager sessions, BridgeOptions options, List<ListenAddress> listen,
        Func<BridgeRecorderTarget, IToolCallRecorder> recorderFactory, ILogger logger)
    {
        this.app = app;
        this.sessions = sessions;
        this.options = options;
        this.listen = listen;
        this.recorderFactory = recorderFactory;
        this.logger = logger;
    }

    /// <summary>The backends with their public URLs (known after <see cref="StartAsync"/>).</summary>
    public IReadOnlyList<(string Name, Uri Url)> Endpoints => backends.Select(b => (b.Name, b.Target)).ToList();

    /// <summary>The addresses Kestrel actually bound (port 0 resolved), after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>Completes when the bridge has been asked to stop (for example by <see cref="StopAsync"/>).</summary>
    public CancellationToken Stopping => app.Lifetime.ApplicationStopping;

    internal SessionManager Sessions => sessions;

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
        BridgeConfig.Validate(options);
        time ??= TimeProvider.System;
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
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The body limit is enforced while reading (RequestBody), so that a refusal can name the id at the body's start.
            kestrel.Limits.MaxRequestBodySize = null;
            foreach (var address in listen)
            {
                void Configure(ListenOptions o)
                {
                    if (address.Https)
                    {
                        o.UseHttps();
                    }
                }
                if (address.Host == "localhost")
                {
                    kestrel.ListenLocalhost(address.Port, Configure);
                }
                else if (address.IsAnyAddress)
                {
                    kestrel.ListenAnyIP(address.Port, Configure);
                }
                else
                {
                    kestrel.Listen(IPAddress.Parse(address.Host.Trim('[', ']')), address.Port, Configure);
                }
            }
        });
        var app = builder.Build();
        var logger = loggerFactory.CreateLogger("Signet.Bridge");
        var sessions = new SessionManager(options.Limits, time, random ?? RandomSource.Cryptographic, logger);
        var server = new BridgeServer(app, sessions, options, listen, recorderFactory, logger);
        var endpoint = new StdioEndpoint(sessions, options.Limits, time, logger, app.Lifetime.ApplicationStopping);
        var remote = new RemoteEndpoint(options.Limits, logger, app.Lifetime.ApplicationStopping);
        server.remote = remote;
        app.Run(context => server.DispatchAsync(context, endpoint, remote));
        return server;
    }

    /// <summary>Starts listening; backends' public URLs are fixed here (port 0 is resolved).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        Addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal))).ToList();
        var baseUrl = options.PublicUrl is { } publicUrl ? new Uri(publicUrl.TrimEnd('/') + "/") : new Uri(Addresses[0], "/");
        var recording = options.EffectiveRecording();
        foreach (var backend in options.Backends)
        {
            var path = BridgeConfig.PathOf(backend, options.Backends.Count);
            var target = new Uri(baseUrl, path.TrimStart('/'));
            backends.Add(new BridgeBackend
            {
                Options = backend,
                Path = path,
                Target = target,
                Recorder = recorderFactory(new BridgeRecorderTarget(backend.Name, target, recording)),
            });
            BridgeLog.Listening(logger, string.Join(", ", Addresses), backend.Name, path);
        }
        if (options.DisableAuthenticationOnLoopback)
        {
            BridgeLog.AuthDisabled(logger);
        }
        guard = new RequestGuard(listen, options.PublicUrl, options.AllowedHosts, options.Token, options.DisableAuthenticationOnLoopback);
    }

    private async Task DispatchAsync(HttpContext context, StdioEndpoint stdio, RemoteEndpoint remote)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path == "/healthz" && context.Request.Method is "GET" or "HEAD")
        {
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("ok");
            return;
        }
        var backend = backends.FirstOrDefault(b => string.Equals(b.Path, path.TrimEnd('/').Length == 0 ? "/" : path.TrimEnd('/'), StringComparison.Ordinal));
        if (backend is null || guard is null)
        {
            await StdioEndpoint.WriteErrorAsync(context, StatusCodes.Status404NotFound, "Not found");
            return;
        }
        if (guard.Check(context.Request) is { } refusal)
        {
            StdioEndpoint.LogRefusal(logger, context, refusal.Status, refusal.Reason);
            if (refusal.Status == StatusCodes.Status401Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"signet\"";
            }
            var message = refusal.Status switch
            {
                StatusCodes.Status401Unauthorized => "Unauthorized",
                StatusCodes.Status400BadRequest => "Bad Request: " + refusal.Reason,
                _ => "Forbidden: " + refusal.Reason,
            };
            await StdioEndpoint.WriteErrorAsync(context, refusal.Status, message);
            return;
        }
        if (backend.IsStdio)
        {
            await stdio.HandleAsync(context, backend);
        }
        else
        {
            await remote.HandleAsync(context, backend);
        }
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
            await sessions.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops (if running) and releases the web host.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        remote?.Dispose();
    }

    /// <summary>The owner (the CLI or a generic host) handles signals; the inner web host must not.</summary>
    private sealed class ExternalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
