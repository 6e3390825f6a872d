using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using Signet.Keys;
using Signet.Mcp.Client;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Mcp;

/// <summary>
/// Makes signing transports and recorders from the container's Signet registrations (<c>services.AddSignet(…)</c>):
/// its <see cref="SignetOptions"/>, its key or signer, its audit log (<see cref="IReceiptSink"/>), its
/// <see cref="System.TimeProvider"/> and <see cref="ILoggerFactory"/>.
/// </summary>
/// <remarks>A singleton; thread-safe. The key and the audit log belong to the container, which disposes them.</remarks>
public sealed class SignetClientFactory
{
    private readonly SignetOptions settings;

    internal SignetClientFactory(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<SignetOptions>>().Value;
        settings = options.Clone();
        settings.TimeProvider ??= services.GetService<TimeProvider>();
        settings.LoggerFactory ??= services.GetService<ILoggerFactory>();
        // Resolved here, not per call: the container then disposes the log after this factory's users.
        settings.AuditLog ??= services.GetService<IReceiptSink>();
        if (settings.Signer is null && services.GetService<ReceiptSigner>() is { } registered)
        {
            settings.Signer = registered;
        }
        if (settings.Signer is null)
        {
            if (settings.Key is null && settings.KeySigner is null)
            {
                // An explicit key wins over the container's, a registered key over one loaded from the home.
                settings.Key = services.GetService<SigningKey>();
                settings.KeySigner = settings.Key is null ? services.GetService<ISigner>() : null;
            }
            var loaded = settings.Key is null && settings.KeySigner is null ? services.GetService<LoadedKey>() : null;
            settings.KeySigner ??= loaded?.Signer;
            settings.SignerName ??= loaded?.Name;
            if (string.IsNullOrEmpty(settings.SignerOwner) && loaded is not null)
            {
                settings.SignerOwner = loaded.Owner;
            }
            settings.Validate(requireTarget: false);
            settings.Signer = settings.CreateSigner();
        }
    }

    /// <summary>The signer of every receipt these transports and recorders make.</summary>
    public ReceiptSigner Signer => settings.Signer!;

    /// <summary>Where receipts are made durable, or null when the container has no audit log.</summary>
    public IReceiptSink? AuditLog => settings.AuditLog;

    /// <summary>A <see cref="SigningTransport"/> over <paramref name="inner"/>, signing with the container's key into its audit log.</summary>
    /// <param name="inner">The transport that carries the messages (stdio, HTTP, streams, …).</param>
    /// <param name="target">The receipt target; default the options' <see cref="SignetOptions.Target"/>, else derived from <paramref name="inner"/>.</param>
    public SigningTransport CreateTransport(IClientTransport inner, string? target = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var copy = settings.Clone();
        copy.Target = target ?? copy.Target;
        return new SigningTransport(inner, copy);
    }

    /// <summary>A recorder for one tool server (for a transport or proxy of your own), over the container's key and audit log.</summary>
    /// <param name="target">The tool server as a URI, signed into every receipt.</param>
    /// <param name="transport">How calls travel (<c>stdio</c> or <c>http</c>); default the options' <see cref="SignetOptions.Transport"/>, else <c>stdio</c>.</param>
    /// <param name="configure">Adjusts this recorder's copy of the settings (for example a stricter failure mode).</param>
    public IToolCallRecorder CreateRecorder(string target, string? transport = null, Action<SignetOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        var copy = settings.Clone();
        copy.Target = target;
        copy.Transport = transport ?? copy.Transport;
        configure?.Invoke(copy);
        return new ToolCallRecorder(copy);
    }
}
