using System.Globalization;
using System.Text.Json.Nodes;

namespace Signet.Audit;

/// <summary>Which records <see cref="AuditQuery.Read"/> returns. Every set criterion must match.</summary>
public sealed record AuditQueryFilter
{
    /// <summary>Only receipts whose timestamp (v1 <c>ts</c>, v2 <c>ts_request</c>, v3 <c>ts_response</c>) is at or after this.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only receipts whose timestamp is before this.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Only receipts for this tool (exact match; v3: the agent receipt's tool).</summary>
    public string? Tool { get; init; }

    /// <summary>Only receipts signed by this signer: a name or an <c>ed25519:</c> public key (agent or v3 server).</summary>
    public string? Signer { get; init; }
}

/// <summary>One record read from the log.</summary>
/// <param name="File">The day file (full path).</param>
/// <param name="Line">One-based line number.</param>
/// <param name="Receipt">The receipt as stored.</param>
/// <param name="PrevHash">The record's <c>prev_hash</c>.</param>
/// <param name="RecordHash">The record's <c>record_hash</c> (as stored; <see cref="AuditVerifier"/> checks it).</param>
public sealed record AuditEntry(string File, long Line, JsonObject Receipt, string PrevHash, string RecordHash)
{
    /// <summary>The receipt's timestamp text, by version.</summary>
    public string? Timestamp => ReceiptFields.Timestamp(Receipt);

    /// <summary>The tool name.</summary>
    public string? Tool => ReceiptFields.Tool(Receipt);

    /// <summary>The signer's name (the agent's for v3).</summary>
    public string? SignerName => ReceiptFields.SignerName(Receipt);

    /// <summary>The receipt version, when it has an integer <c>v</c>.</summary>
    public int? Version => ReceiptFields.Version(Receipt);

    /// <summary>The receipt id.</summary>
    public string? ReceiptId => ReceiptFields.Id(Receipt);
}

/// <summary>A line the query could not read as a record (verification reports it as a break).</summary>
/// <param name="File">The day file.</param>
/// <param name="Line">One-based line number.</param>
/// <param name="Reason">Why.</param>
public sealed record AuditSkippedLine(string File, long Line, string Reason);

/// <summary>Streams records from a log, oldest first, in bounded memory.</summary>
public static class AuditQuery
{
    /// <summary>
    /// Yields the records that match <paramref name="filter"/>. Lines that are not records are passed to
    /// <paramref name="onSkipped"/> and not yielded.
    /// </summary>
    public static IEnumerable<AuditEntry> Read(string auditDirectory, AuditQueryFilter? filter = null, Action<AuditSkippedLine>? onSkipped = null)
    {
        filter ??= new AuditQueryFilter();
        var directory = Path.GetFullPath(auditDirectory);
        if (!Directory.Exists(directory))
        {
            yield break;
        }
        foreach (var file in AuditRecordFormat.ChainFiles(directory))
        {
            using var reader = new AuditLineReader(file);
            while (reader.TryRead(out var line))
            {
                if (line.Bytes.AsSpan().IndexOfAnyExcept(" \t\r"u8) < 0)
                {
                    continue;
                }
                var record = AuditRecordFormat.TryParse(line.Bytes, out var error, out _);
                if (record is null)
                {
                    onSkipped?.Invoke(new AuditSkippedLine(file, line.Number, error ?? "not a record"));
                    continue;
                }
                var entry = new AuditEntry(file, line.Number, record.Receipt, record.PrevHash, record.RecordHash);
                if (Matches(entry, filter))
                {
                    yield return entry;
                }
            }
        }
    }

    private static bool Matches(AuditEntry entry, AuditQueryFilter filter)
    {
        if (filter.Tool is { } tool && !string.Equals(entry.Tool, tool, StringComparison.Ordinal))
        {
            return false;
        }
        if (filter.Signer is { } signer && !ReceiptFields.Signers(entry.Receipt).Contains(signer, StringComparer.Ordinal))
        {
            return false;
        }
        if (filter.Since is not null || filter.Until is not null)
        {
            if (!DateTimeOffset.TryParse(entry.Timestamp, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var ts))
            {
                return false;
            }
            if (ts < filter.Since || ts >= filter.Until)
            {
                return false;
            }
        }
        return true;
    }
}
