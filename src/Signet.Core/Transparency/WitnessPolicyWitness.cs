namespace Signet.Transparency;

/// <summary>A witness named in a <see cref="WitnessPolicy"/>: its policy name, its cosignature vkey and an optional URL.</summary>
public sealed class WitnessPolicyWitness
{
    internal WitnessPolicyWitness(string name, NoteVerifierKey key, string? url)
    {
        Name = name;
        Key = key;
        Url = url;
    }

    /// <summary>The name the policy uses for the witness in groups and the quorum (not necessarily the key name).</summary>
    public string Name { get; }

    /// <summary>The witness's <c>cosignature/v1</c> verifier key (type 0x04).</summary>
    public NoteVerifierKey Key { get; }

    /// <summary>The witness's submission prefix URL, when the policy gives one.</summary>
    public string? Url { get; }
}
