using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Signet.Bridge.Http;
using Signet.Transparency;

namespace Signet.Bridge.Witness;

/// <summary>Options of <see cref="WitnessServer"/>.</summary>
internal sealed class WitnessServerOptions
{
    /// <summary>Addresses to listen on (default 127.0.0.1:8790).</summary>
    public IList<string> Listen { get; } = new List<string>();

    /// <summary>Other host names allowed in Host headers (a tunnel's, a reverse proxy's).</summary>
    public IList<string> AllowedHosts { get; } = new List<string>();

    /// <summary>The bearer token clients must send; required unless every listen address is loopback.</summary>
    public string? Token { get; set; }
}

/// <summary>
/// <c>signet witness serve</c>: the C2SP tlog-witness HTTP API over a <see cref="Transparency.Witness"/>:
/// <c>POST /add-checkpoint</c>, <c>GET /&lt;origin hash&gt;/checkpoint</c> and <c>/healthz</c>, behind the bridge's
/// Host/Origin checks and, beyond loopback, its bearer token.
/// </summary>
internal sealed class WitnessServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WitnessServer(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The addresses bound (port 0 resolved), after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>Builds the server; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <exception cref="SignetException">A listen address is malformed, or one is beyond loopback and no token was given.</exception>
    public static WitnessServer Create(Transparency.Witness witness, WitnessServerOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(witness);
        var listen = (options.Listen.Count == 0 ? ["127.0.0.1:8790"] : options.Listen).Select(ListenAddress.Parse).ToList();
        var tokenless = string.IsNullOrEmpty(options.Token);
        if (tokenless && !listen.All(l => l.IsLoopback))
        {
            throw new SignetException("a witness that listens beyond loopback needs a bearer token (--token-file, or SIGNET_WITNESS_TOKEN)");
        }
        var guard = new RequestGuard(listen, null, options.AllowedHosts, options.Token, tokenless);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "Signet.Witness",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, ExternalLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = Transparency.Witness.MaxRequestBytes;
            KestrelListen.Bind(kestrel, listen);
        });
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (context.Request.Path == "/healthz")
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            if (guard.Check(context.Request) is { } refused)
            {
                await WriteAsync(context, refused.Status, "text/plain; charset=utf-8", refused.Reason + "\n").ConfigureAwait(false);
                return;
            }
            await next(context).ConfigureAwait(false);
        });
        app.MapGet("/healthz", context => WriteAsync(context, StatusCodes.Status200OK, "text/plain; charset=utf-8", "ok"));
        app.MapPost("/add-checkpoint", async context =>
        {
            byte[] body;
            try
            {
                body = await ReadBodyAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            }
            catch (BadHttpRequestException)
            {
                await WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "text/plain; charset=utf-8",
                    $"the request body is larger than {Transparency.Witness.MaxRequestBytes} bytes\n").ConfigureAwait(false);
                return;
            }
            var answer = witness.AddCheckpoint(body);
            await WriteAsync(context, answer.StatusCode, answer.ContentType, answer.Body).ConfigureAwait(false);
        });
        app.MapGet("/{originHash}/checkpoint", async context =>
        {
            var note = witness.GetCheckpoint(context.Request.RouteValues["originHash"] as string ?? "");
            if (note is null)
            {
                await WriteAsync(context, StatusCodes.Status404NotFound, "text/plain; charset=utf-8", "this witness has cosigned no checkpoint for that origin\n").ConfigureAwait(false);
                return;
            }
            context.Response.Headers.CacheControl = "no-cache";
            await WriteAsync(context, StatusCodes.Status200OK, "text/plain; charset=utf-8", note).ConfigureAwait(false);
        });
        return new WitnessServer(app);
    }

    /// <summary>Starts listening.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        Addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal))).ToList();
    }

    /// <summary>Stops listening (requests in flight finish).</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static Task WriteAsync(HttpContext context, int status, string contentType, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>The CLI handles signals; the inner web host must not.</summary>
    private sealed class ExternalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
