using Signet.Audit;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary>The audit-log configurations the transport harness measures.</summary>
internal static class TransportSinks
{
    public sealed record SinkConfig(string Name, Func<string, IReceiptSink?> Open, Func<IReceiptSink?, ValueTask> Close);

    public static IEnumerable<SinkConfig> Configs(string dir) =>
    [
        new("SigningTransport + audit log, fast (fsync on a timer)", d => AuditLog.Open(Path.Combine(d, "fast"), new AuditLogOptions { Durability = AuditDurability.Fast }), Close),
        new("SigningTransport + audit log, durable (fsync per append)", d => AuditLog.Open(Path.Combine(d, "durable"), new AuditLogOptions { Durability = AuditDurability.Durable }), Close),
    ];

    private static ValueTask Close(IReceiptSink? sink) => sink is AuditLog log ? log.DisposeAsync() : ValueTask.CompletedTask;
}
