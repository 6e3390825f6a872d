using Signet.Audit;
using Signet.Receipts;

namespace Signet.Cli;

/// <summary>Appends one receipt to the home's audit log, durably, for commands that sign once and exit.</summary>
internal static class LogSink
{
    public static async Task AppendAsync(string home, Receipt receipt, CliConsole console, CancellationToken ct)
    {
        await using var log = AuditLog.Open(SignetHome.AuditDirectory(home), new AuditLogOptions { TimeProvider = console.Time });
        await log.AppendAsync(receipt.Json, ct);
    }
}
