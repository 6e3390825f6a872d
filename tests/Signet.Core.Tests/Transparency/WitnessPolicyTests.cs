using System.Buffers.Binary;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class WitnessPolicyTests : IDisposable
{
    private static readonly DateTimeOffset Time = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private readonly SigningKey _log = TestKeys.Make(1);
    private readonly SigningKey _w1 = TestKeys.Make(11);
    private readonly SigningKey _w2 = TestKeys.Make(12);
    private readonly SigningKey _stranger = TestKeys.Make(13);

    public void Dispose()
    {
        _log.Dispose();
        _w1.Dispose();
        _w2.Dispose();
        _stranger.Dispose();
    }

    private NoteSigner LogSigner => new("example.com/log", _log);

    private NoteVerifierKey W1 => NoteVerifierKey.ForCosignatures("w1.example", _w1.PublicKey);

    private NoteVerifierKey W2 => NoteVerifierKey.ForCosignatures("w2.example", _w2.PublicKey);

    private SignedCheckpoint Cosigned(params (string Name, SigningKey Key)[] witnesses)
    {
        var signed = SignedCheckpoint.Create(TestKeys.Checkpoint(), LogSigner);
        return signed.WithSignatures(witnesses.Select(w => Cosignature.Sign(w.Name, w.Key, signed.Note.Text, Time)));
    }

    [Fact]
    public void Verify_TwoOfTwoWithBothCosignatures_ReturnsBothWitnessesAndTimes()
    {
        var policy = WitnessPolicy.Threshold(2, [W1, W2]);

        var result = Cosigned(("w1.example", _w1), ("w2.example", _w2)).Verify(LogSigner.VerifierKey, policy);

        Assert.Equal(["w1.example", "w2.example"], result.Cosignatures.Select(c => c.Witness));
        Assert.All(result.Cosignatures, c => Assert.Equal(Time, c.Time));
        Assert.Equal(5, result.Checkpoint.Size);
    }

    [Fact]
    public void Verify_TwoOfTwoWithOneCosignature_ThrowsSayingWhatIsMissing()
    {
        var policy = WitnessPolicy.Threshold(2, [W1, W2]);

        var error = Assert.Throws<CheckpointVerificationException>(() => Cosigned(("w1.example", _w1)).Verify(LogSigner.VerifierKey, policy));

        Assert.Contains("needs 2 of (w1.example, w2.example)", error.Message);
        Assert.Contains("valid cosignatures from: w1.example", error.Message);
    }

    [Fact]
    public void Verify_OneOfTwo_AcceptsEitherWitnessAndRefusesNone()
    {
        var policy = WitnessPolicy.Threshold(1, [W1, W2]);

        Assert.Single(Cosigned(("w2.example", _w2)).Verify(LogSigner.VerifierKey, policy).Cosignatures);
        Assert.Single(Cosigned(("w1.example", _w1)).Verify(LogSigner.VerifierKey, policy).Cosignatures);
        var error = Assert.Throws<CheckpointVerificationException>(() => Cosigned().Verify(LogSigner.VerifierKey, policy));
        Assert.Contains("valid cosignatures from: none", error.Message);
    }

    [Fact]
    public void Verify_ZeroWitnesses_AcceptsTheLogSignatureAlone()
    {
        Assert.Empty(Cosigned().Verify(LogSigner.VerifierKey).Cosignatures);
        Assert.Empty(Cosigned().Verify(LogSigner.VerifierKey, WitnessPolicy.Threshold(0, [W1])).Cosignatures);
        Assert.Empty(Cosigned().Verify(LogSigner.VerifierKey, WitnessPolicy.Parse("quorum none\n")).Cosignatures);
    }

    [Fact]
    public void Verify_CosignatureFromAnUnknownWitness_IsIgnored()
    {
        var policy = WitnessPolicy.Threshold(1, [W1]);
        var checkpoint = Cosigned(("w1.example", _w1), ("stranger.example", _stranger));

        var result = checkpoint.Verify(LogSigner.VerifierKey, policy);

        Assert.Equal(["w1.example"], result.Cosignatures.Select(c => c.Witness));
        Assert.Throws<CheckpointVerificationException>(() => Cosigned(("stranger.example", _stranger)).Verify(LogSigner.VerifierKey, policy));
    }

    [Fact]
    public void Verify_ForgedCosignatureFromAKnownWitness_RejectsTheNote()
    {
        var policy = WitnessPolicy.Threshold(1, [W1, W2]);
        var signed = SignedCheckpoint.Create(TestKeys.Checkpoint(), LogSigner);
        // The name and key id of w2, signed by another key: what a forger without w2's key can make.
        var forged = Cosignature.Sign("w2.example", _stranger, signed.Note.Text, Time);
        var note = signed.WithSignatures([Cosignature.Sign("w1.example", _w1, signed.Note.Text, Time), new NoteSignature("w2.example", W2.KeyId, forged.Signature)]);

        var error = Assert.Throws<CheckpointVerificationException>(() => note.Verify(LogSigner.VerifierKey, policy));

        Assert.Contains("cosignature of witness w2.example", error.Message);
    }

    [Fact]
    public void Verify_CosignatureOfAnotherCheckpoint_RejectsTheNote()
    {
        var policy = WitnessPolicy.Threshold(1, [W1]);
        var other = SignedCheckpoint.Create(TestKeys.Checkpoint(6), LogSigner);
        var note = Cosigned().WithSignatures([Cosignature.Sign("w1.example", _w1, other.Note.Text, Time)]);

        Assert.Throws<CheckpointVerificationException>(() => note.Verify(LogSigner.VerifierKey, policy));
    }

    [Fact]
    public void Verify_SignedByAnotherLogKey_ThrowsNamingTheKey()
    {
        using var otherLog = TestKeys.Make(2);
        var expected = NoteVerifierKey.ForSignatures("example.com/log", otherLog.PublicKey);

        var error = Assert.Throws<CheckpointVerificationException>(() => Cosigned().Verify(expected));

        Assert.Contains($"no signature by log key example.com/log+{expected.KeyId:x8}", error.Message);
    }

    [Fact]
    public void Verify_ForgedLogSignature_Throws()
    {
        var signed = Cosigned();
        var bytes = signed.Note.Signatures[0].Signature;
        bytes[0] ^= 0x80;
        var forged = SignedCheckpoint.Parse(new SignedNote(signed.Note.Text, [new NoteSignature("example.com/log", LogSigner.KeyId, bytes)]).ToString());

        var error = Assert.Throws<CheckpointVerificationException>(() => forged.Verify(LogSigner.VerifierKey));

        Assert.Contains("does not verify", error.Message);
    }

    [Fact]
    public void Verify_AlteredCheckpointText_Throws()
    {
        var note = Cosigned().ToString().Replace("\n5\n", "\n6\n", StringComparison.Ordinal);

        Assert.Throws<CheckpointVerificationException>(() => SignedCheckpoint.Parse(note).Verify(LogSigner.VerifierKey));
    }

    [Fact]
    public void Parse_GroupsAndQuorum_EvaluatesNestedThresholds()
    {
        var w3 = NoteVerifierKey.ForCosignatures("w3.example", _stranger.PublicKey);
        var text = $"""
            # two organisations
            log {LogSigner.VerifierKey} https://log.example/
            witness X1 {W1}
            witness X2	{W2} https://w2.example/
              witness Y1 {w3}
            group X 2 X1 X2
            group Y any Y1
            group X-and-Y all X Y
            quorum X-and-Y
            """;

        var policy = WitnessPolicy.Parse(text);

        Assert.Equal(LogSigner.VerifierKey, Assert.Single(policy.Logs));
        Assert.Equal(["X1", "X2", "Y1"], policy.Witnesses.Select(w => w.Name));
        Assert.Equal("https://w2.example/", policy.Witnesses[1].Url);
        Assert.True(policy.IsSatisfiedBy(["X1", "X2", "Y1"]));
        Assert.False(policy.IsSatisfiedBy(["X1", "Y1"]));
        Assert.False(policy.IsSatisfiedBy(["X1", "X2"]));
        Assert.Equal("2 of (2 of (X1, X2), 1 of (Y1))", policy.DescribeQuorum());
        Assert.Equal(policy.ToString(), WitnessPolicy.Parse(policy.ToString()).ToString());
    }

    [Fact]
    public void Threshold_ToStringThenParse_KeepsWitnessesAndQuorum()
    {
        var policy = WitnessPolicy.Parse(WitnessPolicy.Threshold(1, [W1, W2]).ToString());

        Assert.True(policy.IsSatisfiedBy(["w2.example"]));
        Assert.False(policy.IsSatisfiedBy([]));
        Assert.Equal([W1, W2], policy.Witnesses.Select(w => w.Key));
    }

    [Theory]
    [InlineData("witness a {W1}\n", 0, "no quorum line")]
    [InlineData("quorum none\nquorum none\n", 2, "second quorum line")]
    [InlineData("quorum a\n", 1, "not a witness or group defined on an earlier line")]
    [InlineData("group g any a\nwitness a {W1}\nquorum g\n", 1, "not a witness or group defined on an earlier line")]
    [InlineData("witness a {W1}\nwitness a {W2}\nquorum a\n", 2, "already defined")]
    [InlineData("witness none {W1}\nquorum none\n", 1, "reserved")]
    [InlineData("witness a {W1}\nwitness b {W1}\nquorum a\n", 2, "same public key")]
    [InlineData("witness a {LOG}\nquorum a\n", 1, "type 0x01")]
    [InlineData("log {W1}\nquorum none\n", 1, "type 0x04")]
    [InlineData("witness a {W1}\nwitness b {W2}\ngroup g 3 a b\nquorum g\n", 3, "from 1 to 2")]
    [InlineData("witness a {W1}\nwitness b {W2}\ngroup g 0 a b\nquorum g\n", 3, "from 1 to 2")]
    [InlineData("witness a {W1}\ngroup g any a a\nquorum g\n", 2, "listed twice")]
    [InlineData("witness a {W1}\ngroup g any none\nquorum g\n", 2, "not a witness or group")]
    [InlineData("witness a not-a-vkey\nquorum none\n", 1, "is not <name>+<hex key id>+<base64 key>")]
    [InlineData("witnesses a {W1}\nquorum none\n", 1, "unknown keyword")]
    [InlineData("quorum none\r\n", 1, "U+000D")]
    public void Parse_Malformed_ThrowsNamingTheLine(string template, int line, string reason)
    {
        var text = template.Replace("{W1}", W1.ToString()).Replace("{W2}", W2.ToString()).Replace("{LOG}", LogSigner.VerifierKey.ToString());

        var error = Assert.Throws<NoteFormatException>(() => WitnessPolicy.Parse(text));

        Assert.Equal(line, error.Line);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Verify_SameWitnessCosigningTwice_CountsOnce()
    {
        var signed = SignedCheckpoint.Create(TestKeys.Checkpoint(), LogSigner);
        var first = Cosignature.Sign("w1.example", _w1, signed.Note.Text, Time);
        var second = Cosignature.Sign("w1.example", _w1, signed.Note.Text, Time.AddSeconds(1));
        Assert.NotEqual(BinaryPrimitives.ReadUInt64BigEndian(first.Signature), BinaryPrimitives.ReadUInt64BigEndian(second.Signature));

        var policy = WitnessPolicy.Threshold(2, [W1, W2]);

        Assert.Throws<CheckpointVerificationException>(() => signed.WithSignatures([first, second]).Verify(LogSigner.VerifierKey, policy));
    }

    [Fact]
    public void Verify_WithACosignatureKeyAsTheLogKey_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => Cosigned().Verify(NoteVerifierKey.ForCosignatures("example.com/log", _log.PublicKey)));

        Assert.Contains("type 0x04", error.Message);
    }

    [Fact]
    public void Threshold_InvalidCounts_OrTwoWitnessesWithOneName_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WitnessPolicy.Threshold(3, [W1, W2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => WitnessPolicy.Threshold(-1, [W1]));
        Assert.Throws<ArgumentException>(() => WitnessPolicy.Threshold(1, [W1, NoteVerifierKey.ForCosignatures("w1.example", _w2.PublicKey)]));
        Assert.Throws<ArgumentException>(() => WitnessPolicy.Threshold(1, [LogSigner.VerifierKey]));
    }
}
