using CsCheck;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class NotePropertyTests : IDisposable
{
    private const int Iterations = 2000;
    private static readonly DateTimeOffset Time = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static readonly Gen<string> Pieces = Gen.OneOf(
        "\n", "\n\n", "— ", "—", " ", "a", "example.com/log", "+", "=", "AAAAAAA=", "AAAA", "\t", "\r", "\u0000", "é",
        "\ud83d\ude00", "\ud800", "old ", "index ", "extra ", "c2sp.org/tlog-proof@v1\n", "0", "5", "05", "-1",
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", "witness ", "group ", "quorum ", "log ", "any", "all", "none");

    private static readonly Gen<string> NearNotes = Pieces.Array[0, 24].Select(string.Concat);

    private readonly SigningKey _log = TestKeys.Make(31);
    private readonly SigningKey _witness = TestKeys.Make(32);

    public void Dispose()
    {
        _log.Dispose();
        _witness.Dispose();
    }

    [Fact]
    public void Parsers_RandomText_ThrowOnlyNoteFormatException()
    {
        NearNotes.Sample(text =>
        {
            Refuses(() => SignedNote.Parse(text));
            Refuses(() => Checkpoint.Parse(text));
            Refuses(() => SignedCheckpoint.Parse(text));
            Refuses(() => TlogProof.Parse(text));
            Refuses(() => AddCheckpointRequest.Parse(text));
            Refuses(() => AddCheckpointRequest.ParseResponse(text));
            Refuses(() => AddCheckpointRequest.ParseConflict(text));
            Refuses(() => WitnessPolicy.Parse(text));
            NoteVerifierKey.TryParse(text, out _, out _);
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void SignThenParse_RandomTexts_RoundTripAndVerify()
    {
        var signer = new NoteSigner("example.com/log", _log);
        Gen.OneOf("line", "", "é ✓", "— not a signature", "\ud83d\ude00", " ").Array[1, 6].Sample(lines =>
        {
            var text = string.Join('\n', lines) + "\n";
            var note = new SignedNote(text, [signer.Sign(text)]).ToString();

            var parsed = SignedNote.Parse(note);

            Assert.Equal(text, parsed.Text);
            Assert.Equal(note, parsed.ToString());
            Assert.True(signer.VerifierKey.Verify(parsed.Text, parsed.Signatures[0]));
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void Verify_AnyOneCharacterChangedInACosignedCheckpoint_IsRefused()
    {
        var signer = new NoteSigner("example.com/log", _log);
        var witness = NoteVerifierKey.ForCosignatures("w.example", _witness.PublicKey);
        var policy = WitnessPolicy.Threshold(1, [witness]);
        var signed = SignedCheckpoint.Create(TestKeys.Checkpoint(12), signer);
        var note = signed.WithSignatures([Cosignature.Sign("w.example", _witness, signed.Note.Text, Time)]).ToString();
        Assert.Single(SignedCheckpoint.Parse(note).Verify(signer.VerifierKey, policy).Cosignatures);

        Gen.Select(Gen.Int[0, note.Length - 1], Gen.OneOf('A', 'B', 'a', '0', '/', '+', '=', ' ', '\n', 'x')).Sample((position, replacement) =>
        {
            if (note[position] == replacement)
            {
                return;
            }
            var mutated = note[..position] + replacement + note[(position + 1)..];
            try
            {
                SignedCheckpoint.Parse(mutated).Verify(signer.VerifierKey, policy);
                Assert.Fail($"a checkpoint changed at {position} to '{replacement}' verified:\n{mutated}");
            }
            catch (Exception e) when (e is NoteFormatException or CheckpointVerificationException)
            {
            }
        }, iter: Iterations, threads: 1);
    }

    private static void Refuses(Action parse)
    {
        try
        {
            parse();
        }
        catch (NoteFormatException)
        {
        }
    }
}
