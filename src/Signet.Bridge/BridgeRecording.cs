using Microsoft.Extensions.Logging;
using Signet.Audit;
using Signet.Keys;
using Signet.Mcp;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Bridge;

/// <summary>
/// The signing side of a bridge: one key, one audit log (durable, group commit) and one recorder per backend, each
/// signing its backend's public URL into the receipts as the target, with transport <c>http</c>.
/// </summary>
/// <remarks>Dispose it after the bridge has stopped: that flushes and closes the audit log.</remarks>
public sealed class BridgeRecording : IAsyncDisposable
{
    private readonly LoadedKey key;
    private readonly AuditLog log;
    private readonly ReceiptSigner signer;
    private readonly ILoggerFactory loggerFactory;

    private BridgeRecording(LoadedKey key, AuditLog log, ReceiptSigner signer, ILoggerFactory loggerFactory)
    {
        this.key = key;
        this.log = log;
        this.signer = signer;
        this.loggerFactory = loggerFactory;
    }

    /// <summary>The signing key's name.</summary>
    public string KeyName => key.Name;

    /// <summary>The signing key's public key (what a verifier trusts).</summary>
    public PublicKey PublicKey => key.PublicKey;

    /// <summary>The signing key itself, for the checkpoints of the same log (the CLI's).</summary>
    internal ISigner Signer => key.Signer;

    /// <summary>The audit log the receipts go to.</summary>
    public AuditLog AuditLog => log;

    /// <summary>Loads the key <paramref name="keyName"/> from <paramref name="home"/> and opens the home's audit log.</summary>
    /// <param name="home">The Signet home.</param>
    /// <param name="keyName">The signing key's name.</param>
    /// <param name="passphrase">Where the key's passphrase comes from.</param>
    /// <param name="loggerFactory">Logs of the log and the recorders.</param>
    /// <param name="time">The clock (default: the system clock).</param>
    /// <param name="durability">The audit log's durability (default durable).</param>
    public static BridgeRecording Open(string home, string keyName, PassphraseSource passphrase, ILoggerFactory loggerFactory,
        TimeProvider? time = null, AuditDurability durability = AuditDurability.Durable)
    {
        time ??= TimeProvider.System;
        return Open(home, KeyStore.ForHome(home, time).Load(keyName, passphrase), loggerFactory, time, durability);
    }

    /// <summary>Opens the home's audit log for receipts signed with <paramref name="key"/> (a key file or a PKCS#11 key).</summary>
    /// <param name="home">The Signet home.</param>
    /// <param name="key">The signing key; owned from here on (disposed with the recording, or when opening fails).</param>
    /// <param name="loggerFactory">Logs of the log and the recorders.</param>
    /// <param name="time">The clock (default: the system clock).</param>
    /// <param name="durability">The audit log's durability (default durable).</param>
    public static BridgeRecording Open(string home, LoadedKey key, ILoggerFactory loggerFactory,
        TimeProvider? time = null, AuditDurability durability = AuditDurability.Durable)
    {
        ArgumentNullException.ThrowIfNull(key);
        time ??= TimeProvider.System;
        try
        {
            var log = AuditLog.Open(SignetHome.AuditDirectory(home), new AuditLogOptions { TimeProvider = time, Durability = durability },
                loggerFactory.CreateLogger("Signet.Audit"));
            return new BridgeRecording(key, log, new ReceiptSigner(key.Signer, key.Name, key.Owner, time), loggerFactory);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The recorder for one backend; pass this method to <see cref="BridgeServer.Create"/>.</summary>
    /// <remarks>
    /// Made from a copy of the bridge's <see cref="BridgeOptions.Recording"/>, with this key, this audit log, the backend's
    /// public URL as the target and transport <c>http</c>. Each bridge session decides through its
    /// <see cref="Mcp.Recording.ToolCallSession"/> what a failure means for a call (refused, or forwarded under fail-open).
    /// </remarks>
    public IToolCallRecorder CreateRecorder(BridgeRecorderTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var settings = target.Settings.Clone();
        settings.Signer = signer;
        settings.AuditLog = log;
        settings.Target = target.Target.ToString();
        settings.Transport = "http";
        settings.LoggerFactory ??= loggerFactory;
        return new ToolCallRecorder(settings);
    }

    /// <summary>Flushes and closes the audit log, and forgets the key.</summary>
    public async ValueTask DisposeAsync()
    {
        await log.DisposeAsync().ConfigureAwait(false);
        if (AfterLogClosed is { } after)
        {
            // With the log closed and the key still open: the CLI's last checkpoint covers every receipt.
            await after().ConfigureAwait(false);
        }
        key.Dispose();
    }

    /// <summary>Run by <see cref="DisposeAsync"/> once the log is closed and before the key is disposed.</summary>
    internal Func<ValueTask>? AfterLogClosed { get; set; }
}
