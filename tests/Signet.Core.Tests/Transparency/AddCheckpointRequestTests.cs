using System.Security.Cryptography;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class AddCheckpointRequestTests : IDisposable
{
    private readonly SigningKey _log = TestKeys.Make(1);
    private readonly SigningKey _witness = TestKeys.Make(2);

    public void Dispose()
    {
        _log.Dispose();
        _witness.Dispose();
    }

    private SignedCheckpoint Checkpoint(long size = 9) => SignedCheckpoint.Create(TestKeys.Checkpoint(size), new NoteSigner("example.com/log", _log));

    private static byte[][] Hashes(int n) => Enumerable.Range(0, n).Select(i => SHA256.HashData([(byte)i])).ToArray();

    [Fact]
    public void FormatThenParse_RoundTrip()
    {
        var body = AddCheckpointRequest.Format(4, Hashes(3), Checkpoint());

        var parsed = AddCheckpointRequest.Parse(body);

        Assert.Equal(4, parsed.OldSize);
        Assert.Equal(Hashes(3), parsed.ConsistencyProof);
        Assert.Equal(Checkpoint().ToString(), parsed.Checkpoint.ToString());
        Assert.StartsWith("old 4\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public void FormatThenParse_OldSizeZeroWithoutProof()
    {
        var parsed = AddCheckpointRequest.Parse(AddCheckpointRequest.Format(0, [], Checkpoint()));

        Assert.Equal(0, parsed.OldSize);
        Assert.Empty(parsed.ConsistencyProof);
    }

    [Fact]
    public void Format_MoreThan63ProofLines_Throws()
    {
        Assert.Throws<ArgumentException>(() => AddCheckpointRequest.Format(1, Hashes(64), Checkpoint()));
        Assert.Throws<ArgumentOutOfRangeException>(() => AddCheckpointRequest.Format(10, [], Checkpoint()));
    }

    [Theory]
    [InlineData("old 1", 1, "ends before the old size line's newline")]
    [InlineData("new 1\n\n{CP}", 1, "\"old <size>\"")]
    [InlineData("old 01\n\n{CP}", 1, "\"old <size>\"")]
    [InlineData("old 10\n\n{CP}", 1, "larger than the checkpoint's size 9")]
    [InlineData("old 1\nAAAA\n\n{CP}", 2, "not standard padded base64 of 32 bytes")]
    [InlineData("old 1\n{CP}", 2, "not standard padded base64 of 32 bytes")]
    [InlineData("old 1\n\n", 3, "no checkpoint after the blank line")]
    [InlineData("old 1\n", 2, "ends before the blank line")]
    public void Parse_Malformed_ThrowsNamingTheLine(string template, int line, string reason)
    {
        var body = template.Replace("{CP}", Checkpoint().ToString(), StringComparison.Ordinal);

        var error = Assert.Throws<NoteFormatException>(() => AddCheckpointRequest.Parse(body));

        Assert.Contains(reason, error.Message);
        Assert.Equal(line, error.Line);
    }

    [Fact]
    public void Parse_64ProofLines_IsRefused()
    {
        var body = "old 1\n" + string.Concat(Hashes(64).Select(h => Convert.ToBase64String(h) + "\n")) + "\n" + Checkpoint(100);

        var error = Assert.Throws<NoteFormatException>(() => AddCheckpointRequest.Parse(body));

        Assert.Equal(65, error.Line);
        Assert.Contains("more than 63", error.Message);
    }

    [Fact]
    public void Response_CosignaturesAppendedToTheCheckpoint_Verify()
    {
        var checkpoint = Checkpoint();
        var cosignature = Cosignature.Sign("w.example", _witness, checkpoint.Note.Text, DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));

        var lines = AddCheckpointRequest.ParseResponse(AddCheckpointRequest.FormatResponse([cosignature]));
        var verified = checkpoint.WithSignatures(lines).Verify(new NoteSigner("example.com/log", _log).VerifierKey,
            WitnessPolicy.Threshold(1, [NoteVerifierKey.ForCosignatures("w.example", _witness.PublicKey)]));

        Assert.Single(verified.Cosignatures);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("— w AAAAAAA=", "does not end in a newline")]
    [InlineData("garbage\n", "em dash")]
    [InlineData("<html>503</html>\n", "em dash")]
    public void ParseResponse_Garbage_Throws(string body, string reason)
    {
        var error = Assert.Throws<NoteFormatException>(() => AddCheckpointRequest.ParseResponse(body));

        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Conflict_FormatThenParse_RoundTrip()
    {
        Assert.Equal("20852014\n", AddCheckpointRequest.FormatConflict(20852014));
        Assert.Equal(20852014, AddCheckpointRequest.ParseConflict("20852014\n"));
        Assert.Equal("text/x.tlog.size", AddCheckpointRequest.SizeContentType);
    }

    [Theory]
    [InlineData("")]
    [InlineData("12")]
    [InlineData("012\n")]
    [InlineData("twelve\n")]
    [InlineData("12\n\n")]
    public void ParseConflict_Malformed_Throws(string body)
    {
        Assert.Throws<NoteFormatException>(() => AddCheckpointRequest.ParseConflict(body));
    }

    [Fact]
    public void UnprocessableReason_EmptyTreeWithTheEmptyRoot_IsNull_WithAnotherRoot_Says()
    {
        var signer = new NoteSigner("example.com/log", _log);
        var empty = SignedCheckpoint.Create(new Checkpoint("example.com/log", 0, SHA256.HashData(ReadOnlySpan<byte>.Empty)), signer);
        var wrong = SignedCheckpoint.Create(new Checkpoint("example.com/log", 0, new byte[32]), signer);

        Assert.Null(AddCheckpointRequest.Parse(AddCheckpointRequest.Format(0, [], empty)).UnprocessableReason);
        Assert.Contains("empty tree's root hash", AddCheckpointRequest.Parse(AddCheckpointRequest.Format(0, [], wrong)).UnprocessableReason);
    }

    [Fact]
    public void UnprocessableReason_ProofFromOldSizeZero_Says()
    {
        Assert.Null(AddCheckpointRequest.Parse(AddCheckpointRequest.Format(0, [], Checkpoint())).UnprocessableReason);
        Assert.Null(AddCheckpointRequest.Parse(AddCheckpointRequest.Format(3, Hashes(2), Checkpoint())).UnprocessableReason);
        Assert.Contains("needs no consistency proof", AddCheckpointRequest.Parse(AddCheckpointRequest.Format(0, Hashes(1), Checkpoint())).UnprocessableReason);
    }
}
