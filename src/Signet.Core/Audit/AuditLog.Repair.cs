using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Signet.Audit;

/// <summary>
/// Repair of a corrupt last line (<c>signet log repair</c>): the one change to the log that removes a complete line,
/// done only when asked, kept (the bytes go to a <c>.corrupt</c> file) and recorded in the chain itself.
/// </summary>
public sealed partial class AuditLog
{
    /// <summary>
    /// Moves every corrupt last line aside, as many as there are from the end of the newest day file (each into
    /// <c>YYYY-MM-DD.jsonl.&lt;offset&gt;.corrupt</c>, 0600, fsynced), then appends, durably, one record of each move:
    /// the receipt <paramref name="recordRepair"/> makes for it (the CLI signs a v1 receipt for the tool
    /// <c>signet.log.repair</c>). With nothing to repair, it changes nothing and returns an empty result.
    /// </summary>
    /// <remarks>
    /// The lines are moved under the log's lock; the records are appended right after, as any append is. If the
    /// process stops in between, the <c>.corrupt</c> files stay, and <see cref="AuditVerifier.Verify"/> lists them.
    /// </remarks>
    /// <exception cref="SignetException">A line could not be moved aside (the message says why; no partial file is left).</exception>
    /// <exception cref="AuditLogFailedException">A record of the repair could not be written.</exception>
    public static async Task<AuditRepairResult> RepairAsync(
        string auditDirectory,
        Func<AuditRepairedLine, JsonObject> recordRepair,
        AuditLogOptions? options = null,
        ILogger? logger = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(recordRepair);
        var log = OpenCore(auditDirectory, options, logger, repairing: true);
        await using (log.ConfigureAwait(false))
        {
            List<AuditRepairedLine> moved;
            lock (log._io)
            {
                moved = [.. log._repairs];
                // Only what open found is repaired: a line that turns corrupt later stops this writer as it stops any.
                log._repairing = false;
            }
            var repaired = new List<AuditRepair>(moved.Count);
            foreach (var line in moved)
            {
                var record = await log.AppendAsync(recordRepair(line), ct).ConfigureAwait(false);
                repaired.Add(new AuditRepair(line, record));
            }
            return new AuditRepairResult { Repaired = repaired, TornTails = log.RecoveredTornTails };
        }
    }
}
