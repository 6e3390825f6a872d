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
    private readonly bool syncResponseReceipts;

    private BridgeRecording(LoadedKey key, AuditLog log, ReceiptSigner signer, ILoggerFactory loggerFactory, bool syncResponseReceipts)
    {
        this.key = key;
        this.log = log;
        this.signer = signer;
        this.loggerFactory = loggerFactory;
        this.syncResponseReceipts = syncResponseReceipts;
    }

    /// <summary>The signing key's name.</summary>
    public string KeyName => key.Name;

    /// <summary>The signing key's public key (what a verifier trusts).</summary>
    public PublicKey PublicKey => key.PublicKey;

    /// <summary>The audit log the receipts go to.</summary>
    public AuditLog AuditLog => log;

    /// <summary>Loads the key <paramref name="keyName"/> from <paramref name="home"/> and opens the home's audit log.</summary>
    /// <param name="home">The Signet home.</param>
    /// <param name="keyName">The signing key's name.</param>
    /// <param name="passphrase">Where the key's passphrase comes from.</param>
    /// <param name="loggerFactory">Logs of the log and the recorders.</param>
    /// <param name="time">The clock (default: the system clock).</param>
    /// <param name="durability">The audit log's durability (default durable).</param>
    /// <param name="syncResponseReceipts">Deliver a response only after its receipt is fsynced too (see <see cref="BridgeOptions.SyncResponseReceipts"/>).</param>
    public static BridgeRecording Open(string home, string keyName, PassphraseSource passphrase, ILoggerFactory loggerFactory,
        TimeProvider? time = null, AuditDurability durability = AuditDurability.Durable, bool syncResponseReceipts = false)
    {
        time ??= TimeProvider.System;
        var key = KeyStore.ForHome(home, time).Load(keyName, passphrase);
        try
        {
            var log = AuditLog.Open(SignetHome.AuditDirectory(home), new AuditLogOptions { TimeProvider = time, Durability = durability },
                loggerFactory.CreateLogger("Signet.Audit"));
            return new BridgeRecording(key, log, new ReceiptSigner(key.Key, key.Name, key.Owner, time), loggerFactory, syncResponseReceipts);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The recorder for one backend; pass this method to <see cref="BridgeServer.Create"/>.</summary>
    /// <remarks>
    /// It fails closed: a call whose receipt cannot be signed or made durable is refused to the bridge, which then
    /// refuses it to the client or, with <see cref="BridgeOptions.FailOpen"/>, forwards it unsigned and says so. It also
    /// records the bridge's own refusals of calls it cannot sign (a v2 receipt with outcome <c>rejected</c>).
    /// </remarks>
    public IToolCallRecorder CreateRecorder(BridgeRecorderTarget target) => new ToolCallRecorder(new ToolCallRecorderOptions
    {
        Signer = signer,
        Sink = log,
        Target = target.Target.ToString(),
        Transport = "http",
        LoggerFactory = new BridgeReportsRefusals(loggerFactory),
        SyncResponseReceipts = syncResponseReceipts,
        FailureMode = RecordingFailureMode.FailClosed,
    });

    /// <summary>Flushes and closes the audit log, and forgets the key.</summary>
    public async ValueTask DisposeAsync()
    {
        await log.DisposeAsync().ConfigureAwait(false);
        key.Dispose();
    }
}
