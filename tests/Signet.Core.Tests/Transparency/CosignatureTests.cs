using System.Buffers.Binary;
using System.Text;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class CosignatureTests : IDisposable
{
    private static readonly DateTimeOffset Time = DateTimeOffset.FromUnixTimeSeconds(1679315147);
    private readonly SigningKey _witness = TestKeys.Make(7);
    private readonly string _text = TestKeys.Checkpoint().ToText();

    public void Dispose() => _witness.Dispose();

    private NoteVerifierKey Vkey => NoteVerifierKey.ForCosignatures("witness.example/w1", _witness.PublicKey);

    [Fact]
    public void SignThenVerify_RoundTrip_ReturnsTheTime()
    {
        var signature = Cosignature.Sign("witness.example/w1", _witness, _text, Time.AddMilliseconds(999));

        Assert.True(Cosignature.Verify(Vkey, _text, signature, out var time));
        Assert.Equal(Time, time);
        Assert.Equal(72, signature.Signature.Length);
        Assert.Equal(1679315147ul, BinaryPrimitives.ReadUInt64BigEndian(signature.Signature));
    }

    [Fact]
    public void Sign_KeyId_UsesTypeFour()
    {
        var signature = Cosignature.Sign("witness.example/w1", _witness, _text, Time);

        Assert.Equal(Vkey.KeyId, signature.KeyId);
        Assert.NotEqual(NoteVerifierKey.ForSignatures("witness.example/w1", _witness.PublicKey).KeyId, signature.KeyId);
    }

    [Fact]
    public void Sign_MessageIsCosignatureV1_TimeLine_ThenTheCheckpoint()
    {
        var signature = Cosignature.Sign("witness.example/w1", _witness, _text, Time);
        var message = Encoding.UTF8.GetBytes("cosignature/v1\ntime 1679315147\n" + _text);

        Assert.True(_witness.PublicKey.Verify(message, signature.Signature.AsSpan(8)));
    }

    [Fact]
    public void Verify_OverAnotherCheckpoint_Fails()
    {
        var signature = Cosignature.Sign("witness.example/w1", _witness, _text, Time);

        Assert.False(Cosignature.Verify(Vkey, TestKeys.Checkpoint(6).ToText(), signature, out _));
    }

    [Fact]
    public void Verify_WithAnotherTime_Fails()
    {
        var signature = Cosignature.Sign("witness.example/w1", _witness, _text, Time);
        var bytes = signature.Signature;
        BinaryPrimitives.WriteUInt64BigEndian(bytes, 1679315148);

        Assert.False(Cosignature.Verify(Vkey, _text, new NoteSignature(signature.KeyName, signature.KeyId, bytes), out _));
    }

    [Fact]
    public void Verify_WithAnotherKeyOrName_Fails()
    {
        var signature = Cosignature.Sign("witness.example/w1", _witness, _text, Time);
        using var other = TestKeys.Make(8);

        Assert.False(Cosignature.Verify(NoteVerifierKey.ForCosignatures("witness.example/w1", other.PublicKey), _text, signature, out _));
        Assert.False(Cosignature.Verify(NoteVerifierKey.ForCosignatures("witness.example/w2", _witness.PublicKey), _text, signature, out _));
        Assert.False(Cosignature.Verify(NoteVerifierKey.ForSignatures("witness.example/w1", _witness.PublicKey), _text, signature, out _));
    }

    [Fact]
    public void Verify_PlainEd25519NoteSignatureFromTheSameKey_Fails()
    {
        var plain = new NoteSigner("witness.example/w1", _witness).Sign(_text);

        Assert.False(Cosignature.Verify(Vkey, _text, new NoteSignature(plain.KeyName, Vkey.KeyId, plain.Signature), out _));
    }

    [Fact]
    public void Sign_NotACheckpoint_Throws()
    {
        Assert.Throws<NoteFormatException>(() => Cosignature.Sign("w", _witness, "just a note\n", Time));
    }
}
