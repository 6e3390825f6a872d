namespace Signet.Transparency;

/// <summary>A checkpoint note: a <see cref="Transparency.Checkpoint"/> as the text of a <see cref="SignedNote"/>, signed by the log and perhaps cosigned by witnesses.</summary>
public sealed class SignedCheckpoint
{
    private const string What = "checkpoint note";

    private SignedCheckpoint(Checkpoint checkpoint, SignedNote note)
    {
        Checkpoint = checkpoint;
        Note = note;
    }

    /// <summary>The checkpoint, parsed from the note text.</summary>
    public Checkpoint Checkpoint { get; }

    /// <summary>The note, with the log signature and any cosignatures.</summary>
    public SignedNote Note { get; }

    /// <summary>Parses a checkpoint note (format only: call <see cref="Verify"/> before trusting it).</summary>
    public static SignedCheckpoint Parse(string note) => Parse(note, 0);

    internal static SignedCheckpoint Parse(string note, int lineOffset)
    {
        var parsed = SignedNote.Parse(note, What, lineOffset);
        return new SignedCheckpoint(Checkpoint.Parse(parsed.Text, lineOffset), parsed);
    }

    /// <summary>Signs the checkpoint with the log's key (the key name should be the origin).</summary>
    public static SignedCheckpoint Create(Checkpoint checkpoint, NoteSigner logSigner)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(logSigner);
        var text = checkpoint.ToText();
        return new SignedCheckpoint(checkpoint, new SignedNote(text, [logSigner.Sign(text)]));
    }

    /// <summary>This checkpoint note with the signatures (usually witness cosignatures) added; duplicates appear once.</summary>
    public SignedCheckpoint WithSignatures(IEnumerable<NoteSignature> added) => new(Checkpoint, Note.WithSignatures(added));

    /// <summary>
    /// Verifies the log's signature and the cosignatures of the witnesses the policy knows, then the policy's quorum.
    /// </summary>
    /// <remarks>
    /// As signed-note requires, signatures from unknown keys are ignored, and a signature from a known key (the log's,
    /// or a witness's in the policy) that fails to verify rejects the whole note. The origin is not compared with the
    /// log key's name: a caller that accepts only some origins checks <see cref="Checkpoint.Origin"/>.
    /// </remarks>
    /// <exception cref="CheckpointVerificationException">The checkpoint is not signed by the log, a known signature is forged, or the quorum is not met.</exception>
    public CheckpointVerification Verify(NoteVerifierKey logKey, WitnessPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(logKey);
        if (logKey.Type != NoteVerifierKey.Ed25519Type)
        {
            throw new ArgumentException($"the log key {logKey.Name} has signature type 0x{logKey.Type:x2}; logs sign checkpoints with Ed25519 (type 0x01)", nameof(logKey));
        }
        policy ??= WitnessPolicy.None;
        var origin = Checkpoint.Origin;
        var logSigned = false;
        var cosignatures = new List<CheckpointCosignature>();
        foreach (var signature in Note.Signatures)
        {
            if (logKey.Matches(signature))
            {
                if (!NoteSigner.Verify(logKey, Note.Text, signature))
                {
                    throw new CheckpointVerificationException(
                        $"checkpoint {origin} at size {Checkpoint.Size}: the signature of log key {logKey.Name}+{logKey.KeyId:x8} does not verify (forged or altered)");
                }
                logSigned = true;
                continue;
            }
            var witness = policy.FindWitness(signature);
            if (witness is null)
            {
                continue;
            }
            if (!Cosignature.Verify(witness.Key, Note.Text, signature, out var time))
            {
                throw new CheckpointVerificationException(
                    $"checkpoint {origin} at size {Checkpoint.Size}: the cosignature of witness {witness.Name} ({witness.Key.Name}+{witness.Key.KeyId:x8}) does not verify (forged, or over another checkpoint)");
            }
            if (!cosignatures.Exists(c => c.Witness == witness.Name))
            {
                cosignatures.Add(new CheckpointCosignature(witness.Name, witness.Key, time));
            }
        }
        if (!logSigned)
        {
            throw new CheckpointVerificationException(
                $"checkpoint {origin} at size {Checkpoint.Size} has no signature by log key {logKey.Name}+{logKey.KeyId:x8}"
                + $" (signed by: {string.Join(", ", Note.Signatures.Select(s => $"{s.KeyName}+{s.KeyId:x8}").Distinct())})");
        }
        if (!policy.IsSatisfiedBy(cosignatures.Select(c => c.Witness)))
        {
            var cosigned = cosignatures.Count == 0 ? "none" : string.Join(", ", cosignatures.Select(c => c.Witness));
            throw new CheckpointVerificationException(
                $"checkpoint {origin} at size {Checkpoint.Size}: the witness policy needs {policy.DescribeQuorum()}; valid cosignatures from: {cosigned}");
        }
        return new CheckpointVerification(Checkpoint, cosignatures);
    }

    /// <summary>The note text, exactly as written.</summary>
    public override string ToString() => Note.ToString();
}
