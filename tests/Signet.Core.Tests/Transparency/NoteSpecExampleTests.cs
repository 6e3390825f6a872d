using System.Buffers.Binary;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

/// <summary>The examples of the C2SP documents (signed-note, tlog-checkpoint, tlog-cosignature, tlog-witness), byte for byte.</summary>
public sealed class NoteSpecExampleTests
{
    // signed-note.md, "Verifier keys / Example".
    private const string ExampleVkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    private const string ExampleNote =
        "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    // tlog-cosignature.md, the introduction's example.
    private const string CosignedCheckpoint =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
        + "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
        + "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

    [Fact]
    public void VerifierKeyParse_SpecExample_KeyIdMatchesNameTypeAndKey()
    {
        var key = NoteVerifierKey.Parse(ExampleVkey);

        Assert.Equal("example.com/foo", key.Name);
        Assert.Equal(0x530d903au, key.KeyId);
        Assert.Equal(NoteVerifierKey.Ed25519Type, key.Type);
        Assert.Equal(ExampleVkey, key.ToString());
        Assert.Equal(key.KeyId, NoteVerifierKey.ForSignatures("example.com/foo", key.PublicKey).KeyId);
    }

    [Fact]
    public void SignedNoteParse_SpecExample_VerifiesWithTheExampleKey()
    {
        var key = NoteVerifierKey.Parse(ExampleVkey);
        var note = SignedNote.Parse(ExampleNote);

        Assert.Equal("This is an example message.\n", note.Text);
        var signature = Assert.Single(note.Signatures);
        Assert.Equal("example.com/foo", signature.KeyName);
        Assert.Equal(0x530d903au, signature.KeyId);
        Assert.True(key.Verify(note.Text, signature));
        Assert.False(key.Verify("This is an example message!\n", signature));
        Assert.Equal(ExampleNote, note.ToString());
    }

    [Fact]
    public void SignedNoteParse_SpecExampleWithAFlippedSignatureBit_DoesNotVerify()
    {
        var key = NoteVerifierKey.Parse(ExampleVkey);
        var signature = SignedNote.Parse(ExampleNote).Signatures[0];
        var bytes = signature.Signature;
        bytes[10] ^= 1;

        Assert.False(key.Verify("This is an example message.\n", new NoteSignature(signature.KeyName, signature.KeyId, bytes)));
    }

    [Fact]
    public void SignedNoteParse_SpecIntroductionPoem_KeepsEmptyLinesInTheText()
    {
        const string poem = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n"
            + "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

        var note = SignedNote.Parse(poem);

        Assert.Equal("Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n", note.Text);
        Assert.Equal("quasimodo.example/salvatore", note.Signatures[0].KeyName);
        Assert.Equal(poem, note.ToString());
    }

    [Fact]
    public void SignedCheckpointParse_SpecCosignatureExample_ReadsCheckpointAndTimestampedCosignature()
    {
        var parsed = SignedCheckpoint.Parse(CosignedCheckpoint);

        Assert.Equal("example.com/behind-the-sofa", parsed.Checkpoint.Origin);
        Assert.Equal(20852163, parsed.Checkpoint.Size);
        Assert.Equal(Convert.FromBase64String("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="), parsed.Checkpoint.RootHash);
        Assert.Empty(parsed.Checkpoint.Extensions);
        Assert.Equal(2, parsed.Note.Signatures.Count);
        var cosignature = parsed.Note.Signatures[1];
        Assert.Equal("witness.example.com/w1", cosignature.KeyName);
        Assert.Equal(72, cosignature.Signature.Length);
        // The timestamp of the document's cosigned-message example, "time 1679315147".
        Assert.Equal(1679315147ul, BinaryPrimitives.ReadUInt64BigEndian(cosignature.Signature));
        Assert.Equal(CosignedCheckpoint, parsed.ToString());
    }

    [Fact]
    public void AddCheckpointParse_SpecWitnessExample_ReadsOldSizeProofAndCheckpoint()
    {
        const string body = "old 20852014\n"
            + "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
            + "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\n"
            + "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
            + "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
            + "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";

        var parsed = AddCheckpointRequest.Parse(body);

        Assert.Equal(20852014, parsed.OldSize);
        Assert.Equal(4, parsed.ConsistencyProof.Count);
        Assert.Equal(Convert.FromBase64String("/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0="), parsed.ConsistencyProof[3]);
        Assert.Equal(20852163, parsed.Checkpoint.Checkpoint.Size);
        Assert.Equal(2, parsed.Checkpoint.Note.Signatures.Count);
        Assert.Equal(body, AddCheckpointRequest.Format(parsed.OldSize, parsed.ConsistencyProof, parsed.Checkpoint));
    }

    [Fact]
    public void AddCheckpointParseResponse_SpecWitnessExample_ReadsThreeCosignatureLines()
    {
        const string body =
            "— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n"
            + "— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n"
            + "— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n";

        var lines = AddCheckpointRequest.ParseResponse(body);

        Assert.Equal(["witness.example/w1", "witness.example/w1", "witness.example/w2"], lines.Select(l => l.KeyName));
        Assert.Equal(body, AddCheckpointRequest.FormatResponse(lines));
    }
}
