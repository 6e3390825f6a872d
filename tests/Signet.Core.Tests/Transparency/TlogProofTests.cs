using System.Security.Cryptography;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class TlogProofTests : IDisposable
{
    private readonly SigningKey _log = TestKeys.Make(1);
    private readonly SigningKey _witness = TestKeys.Make(2);

    public void Dispose()
    {
        _log.Dispose();
        _witness.Dispose();
    }

    private SignedCheckpoint Checkpoint()
    {
        var signed = SignedCheckpoint.Create(TestKeys.Checkpoint(size: 6), new NoteSigner("example.com/log", _log));
        return signed.WithSignatures([Cosignature.Sign("w.example", _witness, signed.Note.Text, DateTimeOffset.FromUnixTimeSeconds(1_800_000_000))]);
    }

    private static byte[][] Hashes(int n) => Enumerable.Range(0, n).Select(i => SHA256.HashData([(byte)i])).ToArray();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ToStringThenParse_RoundTrip_KeepsEveryPart(bool withExtra)
    {
        byte[]? extra = withExtra ? "age-v1.2.1-darwin-arm64.tar.gz"u8.ToArray() : null;
        var proof = new TlogProof(4, Hashes(3), Checkpoint(), extra);

        var text = proof.ToString();
        var parsed = TlogProof.Parse(text);

        Assert.Equal(text, parsed.ToString());
        Assert.Equal(4, parsed.Index);
        Assert.Equal(Hashes(3), parsed.InclusionProof);
        Assert.Equal(extra, parsed.Extra);
        Assert.Equal(withExtra, text.Contains("\nextra ", StringComparison.Ordinal));
        Assert.Equal(2, parsed.Checkpoint.Note.Signatures.Count);
        var vkey = NoteVerifierKey.ForCosignatures("w.example", _witness.PublicKey);
        Assert.Single(parsed.Checkpoint.Verify(new NoteSigner("example.com/log", _log).VerifierKey, WitnessPolicy.Threshold(1, [vkey])).Cosignatures);
    }

    [Fact]
    public void Parse_NoProofHashes_IsAccepted()
    {
        var parsed = TlogProof.Parse(new TlogProof(0, [], Checkpoint()).ToString());

        Assert.Empty(parsed.InclusionProof);
        Assert.Null(parsed.Extra);
    }

    [Fact]
    public void Parse_SpecExampleLayout_ReadsExtraIndexAndProof()
    {
        var note = Checkpoint().ToString();
        var text = "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\nindex 5\n"
            + "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\nB95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n\n" + note;

        var parsed = TlogProof.Parse(text);

        Assert.Equal("age-v1.2.1-darwin-arm64.tar.gz"u8.ToArray(), parsed.Extra);
        Assert.Equal(5, parsed.Index);
        Assert.Equal(2, parsed.InclusionProof.Count);
        Assert.Equal(note, parsed.Checkpoint.ToString());
    }

    public static TheoryData<string, int, string> Malformed()
    {
        const string H = "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=";
        return new()
        {
            { "", 1, "empty or truncated" },
            { "c2sp.org/tlog-proof@v2\nindex 1\n\n{CP}", 1, "not c2sp.org/tlog-proof@v1" },
            { "c2sp.org/tlog-proof@v1\n" + H + "\n\n{CP}", 2, "expected \"index <n>\"" },
            { "c2sp.org/tlog-proof@v1\nextra AAAA\n" + H + "\n\n{CP}", 3, "expected \"index <n>\"" },
            { "c2sp.org/tlog-proof@v1\nextra AAA\nindex 1\n\n{CP}", 2, "extra data is not standard padded base64" },
            { "c2sp.org/tlog-proof@v1\nindex 01\n\n{CP}", 2, "leading zeros" },
            { "c2sp.org/tlog-proof@v1\nindex -1\n\n{CP}", 2, "without sign" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n" + H + "\nnot base64!\n\n{CP}", 4, "not standard padded base64 of 32 bytes" },
            { "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n{CP}", 3, "not standard padded base64 of 32 bytes" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n" + H + "\n", 4, "ends before the blank line and the checkpoint" },
            { "c2sp.org/tlog-proof@v1\nindex 1", 2, "ends before the index line" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n" + H + "\n\n", 5, "ends before the checkpoint" },
            { "c2sp.org/tlog-proof@v1\nindex 6\n\n{CP}", 0, "not below the checkpoint's tree size 6" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n\nexample.com/log\n6\nAAAA\n\n— a AAAAAAA=\n", 6, "root hash" },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Parse_Malformed_ThrowsNamingTheLine(string template, int line, string reason)
    {
        var text = template.Replace("{CP}", Checkpoint().ToString(), StringComparison.Ordinal);

        var error = Assert.Throws<NoteFormatException>(() => TlogProof.Parse(text));

        Assert.Equal(line, error.Line);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Parse_CheckpointCutShort_NamesTheCheckpointLine()
    {
        var full = new TlogProof(1, Hashes(2), Checkpoint()).ToString();
        var cut = full[..full.LastIndexOf("\n\n", StringComparison.Ordinal)] + "\n";

        var error = Assert.Throws<NoteFormatException>(() => TlogProof.Parse(cut));

        Assert.Contains("no blank line before the signature lines", error.Message);
        Assert.Contains("checkpoint note", error.Message);
    }

    [Fact]
    public void Constructor_IndexAtOrBeyondTheSize_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TlogProof(6, [], Checkpoint()));
        Assert.Throws<ArgumentException>(() => new TlogProof(1, [new byte[31]], Checkpoint()));
    }
}
