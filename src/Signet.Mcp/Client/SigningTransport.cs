using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Mcp.Recording;

namespace Signet.Mcp.Client;

/// <summary>
/// A client transport that signs every <c>tools/call</c>: wrap any MCP client transport and pass it to
/// <c>McpClient.CreateAsync</c>. Each call's v1 receipt is appended to the audit log before the request is sent
/// and travels in <c>params._meta</c>; each response gets a v2 receipt; a server co-signature (v3) is verified
/// and stored. Every other message passes through untouched.
/// </summary>
/// <remarks>
/// Fail-closed by default: when a receipt cannot be signed or stored, the call fails locally with an
/// <see cref="ModelContextProtocol.McpProtocolException"/> (code <see cref="ToolCallRefusedException.JsonRpcErrorCode"/>)
/// and nothing is sent. Disposing this object disposes the inner transport when it is disposable.
/// </remarks>
public sealed class SigningTransport : IClientTransport, IAsyncDisposable
{
    private readonly IClientTransport _inner;
    private readonly ToolCallRecorder _recorder;

    /// <summary>Wraps a transport.</summary>
    /// <param name="inner">The transport that carries the messages (stdio, HTTP, streams, …).</param>
    /// <param name="options">Who signs, where receipts go, and the policies (copied: later changes to it do not apply).</param>
    /// <exception cref="ArgumentException">The options cannot be used (each problem is named).</exception>
    public SigningTransport(IClientTransport inner, SignetOptions options)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(requireTarget: false);
        _inner = inner;
        // A copy with this transport's defaults filled in: the caller's instance may be shared (one per container).
        var settings = options.Clone();
        settings.Target ??= DefaultTarget(inner.Name);
        settings.Transport ??= IsHttpUrl(settings.Target) ? "http" : "stdio";
        _recorder = new ToolCallRecorder(settings);
        Target = settings.Target;
        TransportKind = settings.Transport;
    }

    /// <inheritdoc/>
    public string Name => _inner.Name;

    /// <summary>The target URI signed into receipts.</summary>
    public string Target { get; }

    /// <summary>The transport name signed into receipts (<c>stdio</c>, <c>http</c>, …).</summary>
    public string TransportKind { get; }

    /// <inheritdoc/>
    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var transport = await _inner.ConnectAsync(cancellationToken).ConfigureAwait(false);
        // One session per connection: request ids restart with each.
        return new SigningSessionTransport(transport, _recorder);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;

    internal static string DefaultTarget(string name)
    {
        if (IsHttpUrl(name))
        {
            return name;
        }
        var n = name.StartsWith("stdio-", StringComparison.Ordinal) && name.Length > "stdio-".Length ? name["stdio-".Length..] : name;
        return "mcp://" + Uri.EscapeDataString(string.IsNullOrWhiteSpace(n) ? "unknown" : n);
    }

    private static bool IsHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
