using System.Security.Cryptography;

namespace Signet.Transparency;

/// <summary>A parsed tlog-witness <c>add-checkpoint</c> request: the old size, the consistency proof, the checkpoint note.</summary>
public sealed class AddCheckpointBody
{
    private readonly byte[][] _consistencyProof;

    internal AddCheckpointBody(long oldSize, byte[][] consistencyProof, SignedCheckpoint checkpoint)
    {
        OldSize = oldSize;
        _consistencyProof = consistencyProof;
        Checkpoint = checkpoint;
    }

    /// <summary>The size of the latest checkpoint the client believes the witness cosigned (0 for none).</summary>
    public long OldSize { get; }

    /// <summary>The consistency proof from <see cref="OldSize"/> to the checkpoint's size (RFC 6962 section 2.1.2).</summary>
    public IReadOnlyList<byte[]> ConsistencyProof => _consistencyProof.Select(h => (byte[])h.Clone()).ToArray();

    /// <summary>The submitted checkpoint note, not yet verified.</summary>
    public SignedCheckpoint Checkpoint { get; }

    /// <summary>
    /// Why tlog-witness requires a 422 Unprocessable Entity whatever the witness has stored, or null: a checkpoint of
    /// size 0 whose root is not SHA-256 of the empty string, or a consistency proof sent with old size 0.
    /// </summary>
    public string? UnprocessableReason
    {
        get
        {
            if (Checkpoint.Checkpoint.Size == 0 && !Checkpoint.Checkpoint.RootHash.AsSpan().SequenceEqual(SHA256.HashData(ReadOnlySpan<byte>.Empty)))
            {
                return "a checkpoint of size 0 must have the empty tree's root hash, SHA-256 of the empty string";
            }
            if (OldSize == 0 && _consistencyProof.Length > 0)
            {
                return $"old size 0 needs no consistency proof, but {_consistencyProof.Length} hashes were sent";
            }
            return null;
        }
    }
}
