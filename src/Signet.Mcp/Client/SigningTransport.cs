using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Mcp.Recording;
using Signet.Receipts;

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
    private readonly SigningTransportOptions _options;
    private readonly ReceiptSigner _signer;

    /// <summary>Wraps a transport.</summary>
    /// <param name="inner">The transport that carries the messages (stdio, HTTP, streams, …).</param>
    /// <param name="options">Who signs, where receipts go, and the policies.</param>
    public SigningTransport(IClientTransport inner, SigningTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Key);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.SignerName);
        _inner = inner;
        _options = options;
        _signer = new ReceiptSigner(options.Key, options.SignerName, options.SignerOwner, options.TimeProvider, options.RandomSource);
        Target = options.Target ?? DefaultTarget(inner.Name);
        TransportKind = options.Transport ?? (IsHttpUrl(Target) ? "http" : "stdio");
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
        // One recorder per connection: request ids restart with each session.
        var recorder = new ToolCallRecorder(new ToolCallRecorderOptions
        {
            Signer = _signer,
            Sink = _options.AuditLog,
            Target = Target,
            Transport = TransportKind,
            MetaKeyMode = _options.MetaKeyMode,
            FailureMode = _options.FailureMode,
            TrustedServerKeys = _options.TrustedServerKeys,
            RequireCoSignature = _options.RequireCoSignature,
            SyncResponseReceipts = _options.SyncResponseReceipts,
            OnReceipt = _options.OnReceipt,
            OnError = _options.OnError,
            MaxPendingCalls = _options.MaxPendingCalls,
            LoggerFactory = _options.LoggerFactory,
        });
        return new SigningSessionTransport(transport, recorder, _options.LoggerFactory);
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
