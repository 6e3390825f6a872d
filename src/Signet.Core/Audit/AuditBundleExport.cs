using Signet.Keys;

namespace Signet.Audit;

/// <summary>What an export wrote.</summary>
/// <param name="Directory">The bundle directory.</param>
/// <param name="RecordCount">Records in <c>records.jsonl</c>.</param>
/// <param name="ChainStartPrevHash">The first record's prev_hash (genesis for a whole log).</param>
/// <param name="ChainTipRecordHash">The last record's record_hash.</param>
/// <param name="RecordsSha256">Lowercase hex SHA-256 of <c>records.jsonl</c>.</param>
/// <param name="SignerKey">The key that signed the manifest.</param>
public sealed record AuditBundleExport(string Directory, long RecordCount, string ChainStartPrevHash, string ChainTipRecordHash, string RecordsSha256, PublicKey SignerKey)
{
    /// <summary>The size of the log's checkpoint the bundle carries, or null when it carries none.</summary>
    public long? CheckpointSize { get; init; }
}
