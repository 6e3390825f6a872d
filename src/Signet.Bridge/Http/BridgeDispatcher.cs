using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Signet.Bridge.Sessions;
using Signet.Mcp;

namespace Signet.Bridge.Http;

/// <summary>
/// The bridge behind its endpoints, in whatever app mounts it (<c>MapSignetBridge</c>, or <see cref="BridgeServer"/>'s own):
/// the Host/Origin and bearer-token door, the backends with their recorders, the stdio sessions and the remote forwarder.
/// </summary>
/// <remarks>A container singleton; disposing it ends every session (stopping the children).</remarks>
internal sealed class BridgeDispatcher : IAsyncDisposable
{
    private readonly BridgeOptions options;
    private readonly Func<BridgeRecorderTarget, IToolCallRecorder> recorderFactory;
    private readonly IServiceProvider services;
    private readonly ILogger logger;
    private readonly RequestGuard guard;
    private readonly StdioEndpoint stdio;
    private readonly RemoteEndpoint remote;
    private readonly bool needsHostAuthorization;
    private readonly Lock gate = new();
    private List<(BridgeBackendOptions Options, string Path)>? mounted;
    private IReadOnlyList<BridgeBackend>? backends;
    private int unprotectedReported;
    private int disposed;

    public BridgeDispatcher(BridgeOptions options, Func<BridgeRecorderTarget, IToolCallRecorder> recorderFactory, IServiceProvider services,
        ILoggerFactory loggerFactory, TimeProvider time, RandomSource random, CancellationToken stopping)
    {
        this.options = options;
        this.recorderFactory = recorderFactory;
        this.services = services;
        logger = loggerFactory.CreateLogger("Signet.Bridge");
        var listen = options.Listen.Select(ListenAddress.Parse).ToList();
        var tokenless = options.DisableAuthenticationOnLoopback || string.IsNullOrWhiteSpace(options.Token);
        needsHostAuthorization = tokenless && !options.DisableAuthenticationOnLoopback;
        guard = new RequestGuard(listen, options.PublicUrl, options.AllowedHosts, options.Token, tokenless);
        Sessions = new SessionManager(options.Limits, time, random, logger);
        stdio = new StdioEndpoint(Sessions, options.Limits, time, logger, stopping);
        remote = new RemoteEndpoint(options.Limits, logger, stopping);
        if (options.DisableAuthenticationOnLoopback)
        {
            BridgeLog.AuthDisabled(logger);
        }
    }

    public SessionManager Sessions { get; }

    /// <summary>The backends with their public URLs, once they are known (after the first request, or <see cref="Start"/>).</summary>
    public IReadOnlyList<BridgeBackend> Backends => backends ?? [];

    /// <summary>Fixes each backend's path under <paramref name="prefix"/>; a bridge is mounted once.</summary>
    public IReadOnlyList<(int Index, string Name, string Path)> Mount(string prefix)
    {
        lock (gate)
        {
            if (mounted is not null)
            {
                throw new InvalidOperationException("the Signet bridge is already mapped in this app: call MapSignetBridge once");
            }
            mounted = options.Backends.Select(b => (b, BridgeConfig.PathOf(b, options.Backends.Count, prefix))).ToList();
            if (mounted.Select(m => m.Path).Distinct(StringComparer.OrdinalIgnoreCase).Count() != mounted.Count)
            {
                throw new InvalidOperationException($"two backends of the Signet bridge have the same path under '{prefix}'");
            }
            return mounted.Select((m, i) => (i, m.Options.Name, m.Path)).ToList();
        }
    }

    /// <summary>Makes each backend's recorder, with its public URL under <paramref name="baseUrl"/> (else the public URL, else the server's first address).</summary>
    public IReadOnlyList<BridgeBackend> Start(Uri? baseUrl)
    {
        lock (gate)
        {
            if (backends is not null)
            {
                return backends;
            }
            if (mounted is null)
            {
                throw new InvalidOperationException("the Signet bridge is not mapped: call MapSignetBridge()");
            }
            baseUrl = options.PublicUrl is { } publicUrl ? new Uri(publicUrl.TrimEnd('/') + "/") : baseUrl ?? ServerAddress()
                ?? throw new InvalidOperationException("the bridge's public URL is unknown: set BridgeOptions.PublicUrl");
            var recording = options.EffectiveRecording();
            var made = new List<BridgeBackend>();
            foreach (var (backend, path) in mounted)
            {
                var target = new Uri(baseUrl, path.TrimStart('/'));
                made.Add(new BridgeBackend
                {
                    Options = backend,
                    Path = path,
                    Target = target,
                    Recorder = recorderFactory(new BridgeRecorderTarget(backend.Name, target, recording)),
                });
                BridgeLog.Listening(logger, baseUrl.ToString(), backend.Name, path);
            }
            return backends = made;
        }
    }

    public async Task HandleAsync(HttpContext context, int index)
    {
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
        if (needsHostAuthorization && !await HostAuthorizesAsync(context))
        {
            // No bearer token of the bridge's own and no authorization of the app's: fail closed rather than serve anyone.
            if (Interlocked.Exchange(ref unprotectedReported, 1) == 0)
            {
                BridgeLog.Unprotected(logger);
            }
            StdioEndpoint.LogRefusal(logger, context, StatusCodes.Status403Forbidden, "the bridge has no token and its endpoint no authorization policy");
            await StdioEndpoint.WriteErrorAsync(context, StatusCodes.Status403Forbidden, "Forbidden: the bridge is not protected (set a token or require authorization)");
            return;
        }
        var backend = Start(RequestBase(context))[index];
        if (backend.IsStdio)
        {
            await stdio.HandleAsync(context, backend);
        }
        else
        {
            await remote.HandleAsync(context, backend);
        }
    }

    /// <summary>Whether the app's authorization ran for this endpoint: an authorization policy on it, or a fallback policy.</summary>
    private static async ValueTask<bool> HostAuthorizesAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<IAllowAnonymous>() is not null)
        {
            return false;
        }
        if (metadata?.GetOrderedMetadata<IAuthorizeData>() is { Count: > 0 } || metadata?.GetMetadata<AuthorizationPolicy>() is not null)
        {
            return true;
        }
        return context.RequestServices.GetService<IAuthorizationPolicyProvider>() is { } policies
            && await policies.GetFallbackPolicyAsync() is not null;
    }

    private Uri? ServerAddress()
    {
        var address = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return address is null ? null : new Uri(new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)), "/");
    }

    /// <summary>Only when the server names no address (an in-memory test server): the first request's own scheme and host.</summary>
    private Uri? RequestBase(HttpContext context) =>
        backends is not null || options.PublicUrl is not null || ServerAddress() is not null ? null
            : new Uri($"{context.Request.Scheme}://{context.Request.Host}/");

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }
        try
        {
            await Sessions.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            remote.Dispose();
        }
    }
}
