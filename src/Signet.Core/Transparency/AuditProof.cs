using System.Globalization;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Receipts;

namespace Signet.Transparency;

/// <summary>The verdict on one receipt's inclusion proof. Never thrown.</summary>
public sealed record AuditProofVerification
{
    /// <summary>True when every check passed.</summary>
    public bool IsValid => Problems.Count == 0;

    /// <summary>Every failed check, in the order found.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>The record's index in the log.</summary>
    public long Index { get; init; }

    /// <summary>The checkpoint, with the witnesses whose cosignatures verified (when its signature verified).</summary>
    public CheckpointVerification? Checkpoint { get; init; }

    /// <summary>The receipt inside the record, verified (when the record could be read).</summary>
    public ReceiptVerification? Receipt { get; init; }
}

/// <summary>
/// Verifies a <c>c2sp.org/tlog-proof@v1</c> file that <c>signet log prove</c> wrote for one receipt, offline and
/// without the log: the checkpoint's log signature and the witness cosignatures the policy asks for, the record in
/// <c>extra</c> (its <c>record_hash</c> recomputed from its receipt and <c>prev_hash</c>), the receipt's own signature,
/// and the inclusion proof from the record's leaf hash to the checkpoint's root, in O(log n).
/// </summary>
public static class AuditProof
{
    /// <summary>Checks everything the proof carries; see the type's summary.</summary>
    /// <param name="proof">The proof.</param>
    /// <param name="logKey">The log's note verifier key (type 0x01); its name must be the checkpoint's origin.</param>
    /// <param name="policy">The witnesses whose cosignatures are required (none by default).</param>
    /// <param name="receiptOptions">How the receipt inside is verified (trusted keys, expiry).</param>
    public static AuditProofVerification Verify(TlogProof proof, NoteVerifierKey logKey, WitnessPolicy? policy = null, ReceiptVerificationOptions? receiptOptions = null)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(logKey);
        var problems = new List<string>();
        var checkpoint = proof.Checkpoint.Checkpoint;
        if (!string.Equals(checkpoint.Origin, logKey.Name, StringComparison.Ordinal))
        {
            problems.Add($"the checkpoint's origin is \"{checkpoint.Origin}\", not the log key's name \"{logKey.Name}\": it is another log's checkpoint");
        }
        CheckpointVerification? signed = null;
        try
        {
            signed = proof.Checkpoint.Verify(logKey, policy);
        }
        catch (CheckpointVerificationException e)
        {
            problems.Add(e.Message);
        }

        ReceiptVerification? receipt = null;
        if (proof.Extra is not { } entry)
        {
            problems.Add("the proof has no 'extra' line: it does not carry the record, so there is nothing to prove included (write it with 'signet log prove')");
        }
        else
        {
            var record = AuditRecordFormat.TryParse(entry, out var error, out _);
            if (record is null)
            {
                problems.Add($"the record in 'extra' is not an audit record: {error}");
            }
            else
            {
                var recomputed = AuditRecordFormat.RecordHash(record.PrevHash, record.Receipt);
                if (!string.Equals(recomputed, record.RecordHash, StringComparison.Ordinal))
                {
                    problems.Add($"the record's record_hash is {record.RecordHash}, but its receipt and prev_hash hash to {recomputed}: the record was altered");
                }
                receipt = ReceiptVerifier.Verify((JsonObject)record.Receipt.DeepClone(), receiptOptions);
                if (!receipt.IsValid)
                {
                    problems.Add($"the receipt {receipt.ReceiptId} in the record does not verify: {receipt.Reason}");
                }
            }
            try
            {
                MerkleTree.VerifyInclusion(proof.Index, checkpoint.Size, MerkleTree.LeafHash(entry), proof.InclusionProof, checkpoint.RootHash);
            }
            catch (ProofException e)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"the inclusion proof of record {proof.Index} in the tree of size {checkpoint.Size} does not verify: {e.Message}"));
            }
        }
        return new AuditProofVerification { Problems = problems, Index = proof.Index, Checkpoint = signed, Receipt = receipt };
    }
}
