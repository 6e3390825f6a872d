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
}
