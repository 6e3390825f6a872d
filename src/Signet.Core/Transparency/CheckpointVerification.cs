namespace Signet.Transparency;

/// <summary>A checkpoint whose log signature verified and whose cosignatures satisfied the witness policy.</summary>
public sealed class CheckpointVerification
{
    internal CheckpointVerification(Checkpoint checkpoint, IReadOnlyList<CheckpointCosignature> cosignatures)
    {
        Checkpoint = checkpoint;
        Cosignatures = cosignatures;
    }

    /// <summary>The verified checkpoint.</summary>
    public Checkpoint Checkpoint { get; }

    /// <summary>The valid cosignatures from witnesses the policy knows, one per witness, in note order.</summary>
    public IReadOnlyList<CheckpointCosignature> Cosignatures { get; }
}
