namespace Signet.Transparency;

/// <summary>A witness cosignature that verified: which witness of the policy, with which key, and the time it states.</summary>
public sealed class CheckpointCosignature
{
    internal CheckpointCosignature(string witness, NoteVerifierKey key, DateTimeOffset time)
    {
        Witness = witness;
        Key = key;
        Time = time;
    }

    /// <summary>The witness's name in the policy.</summary>
    public string Witness { get; }

    /// <summary>The witness's verifier key.</summary>
    public NoteVerifierKey Key { get; }

    /// <summary>The time the cosignature states (whole seconds, UTC).</summary>
    public DateTimeOffset Time { get; }
}
