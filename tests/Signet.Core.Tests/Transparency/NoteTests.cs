using Signet.Keys;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class NoteTests : IDisposable
{
    private readonly SigningKey _key = TestKeys.Make(1);

    public void Dispose() => _key.Dispose();

    private string SignedText(string text) => new SignedNote(text, [new NoteSigner("example.com/a", _key).Sign(text)]).ToString();

    [Fact]
    public void SignThenParse_RoundTrip_VerifiesAndKeepsTheBytes()
    {
        var signer = new NoteSigner("example.com/a", _key);
        var text = SignedText("hello\n\nworld ✓\n");

        var parsed = SignedNote.Parse(text);

        Assert.Equal("hello\n\nworld ✓\n", parsed.Text);
        Assert.True(signer.VerifierKey.Verify(parsed.Text, parsed.Signatures[0]));
        Assert.Equal(text, parsed.ToString());
    }

    [Fact]
    public void VerifierKey_OfAnotherNameOrType_DoesNotVerify()
    {
        var text = "hello\n";
        var signature = new NoteSigner("example.com/a", _key).Sign(text);

        Assert.False(NoteVerifierKey.ForSignatures("example.com/b", _key.PublicKey).Verify(text, signature));
        Assert.False(NoteVerifierKey.ForCosignatures("example.com/a", _key.PublicKey).Verify(text, signature));
        using var other = TestKeys.Make(2);
        Assert.False(NoteVerifierKey.ForSignatures("example.com/a", other.PublicKey).Verify(text, signature));
    }

    [Theory]
    [InlineData("no blank line\n— a AAAAAAA=\n", 0, "no blank line")]
    [InlineData("text\n\n", 3, "no signature lines")]
    [InlineData("text\n\n— a AAAAAAA=", 3, "does not end in a newline")]
    [InlineData("text\n\n- a AAAAAAA=\n", 3, "em dash")]
    [InlineData("text\n\n— a\n", 3, "no space after the key name")]
    [InlineData("text\n\n— a+b AAAAAAA=\n", 3, "contains '+'")]
    [InlineData("text\n\n— a\u00a0b AAAAAAA=\n", 3, "contains a space")]
    [InlineData("text\n\n— a AAAAAAA\n", 3, "not standard padded base64")]
    [InlineData("text\n\n— a AAAAAAB=\n", 3, "not standard padded base64")]
    [InlineData("text\n\n— a AAAAAA==\n", 3, "4-byte key id")]
    [InlineData("line one\nline\ttwo\n\n— a AAAAAAA=\n", 2, "U+0009")]
    [InlineData("line one\r\n\n— a AAAAAAA=\n", 1, "U+000D")]
    [InlineData("text\n\n— a AAAAAAA=\n— b AAAAAAA=\n— a AAAAAAA=\n— c AAAAAA==\n", 6, "4-byte key id")]
    public void Parse_Malformed_ThrowsNamingTheLineAndProblem(string note, int line, string reason)
    {
        var error = Assert.Throws<NoteFormatException>(() => SignedNote.Parse(note));

        Assert.Equal(line, error.Line);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Parse_UnpairedSurrogate_IsRefusedAsNotUtf8()
    {
        var error = Assert.Throws<NoteFormatException>(() => SignedNote.Parse("a\ud800\n\n— a AAAAAAA=\n"));

        Assert.Contains("UTF-8", error.Message);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void Parse_MoreThanAHundredSignatures_IsRefused()
    {
        var lines = string.Concat(Enumerable.Range(0, 101).Select(i => $"— k{i} AAAAAAA=\n"));

        var error = Assert.Throws<NoteFormatException>(() => SignedNote.Parse("text\n\n" + lines));

        Assert.Contains("more than 100 signatures", error.Message);
        Assert.Equal(100, SignedNote.Parse("text\n\n" + lines[..lines.IndexOf("— k100", StringComparison.Ordinal)]).Signatures.Count);
    }

    [Fact]
    public void Parse_LargerThanTheSizeLimit_IsRefused()
    {
        var error = Assert.Throws<NoteFormatException>(() => SignedNote.Parse(new string('a', (1 << 20) + 1) + "\n\n— a AAAAAAA=\n"));

        Assert.Contains("longer than", error.Message);
    }

    [Fact]
    public void Parse_IdenticalSignatureLines_AreKeptOnce()
    {
        var note = SignedNote.Parse("text\n\n— a AAAAAAA=\n— a AAAAAAA=\n— a AAAAAAE=\n");

        Assert.Equal(2, note.Signatures.Count);
    }

    [Fact]
    public void WithSignatures_MergesWithoutDuplicates()
    {
        var text = "text\n";
        var first = new NoteSigner("example.com/a", _key).Sign(text);
        using var otherKey = TestKeys.Make(3);
        var second = new NoteSigner("example.com/b", otherKey).Sign(text);
        var note = new SignedNote(text, [first]);

        var merged = note.WithSignatures([second, first, second]);

        Assert.Equal([first, second], merged.Signatures);
        Assert.Equal(text + "\n" + first.ToLine() + "\n" + second.ToLine() + "\n", merged.ToString());
        Assert.Single(note.Signatures);
    }

    [Theory]
    [InlineData("")]
    [InlineData("no newline")]
    [InlineData("bell\a\n")]
    public void Sign_InvalidText_Throws(string text)
    {
        Assert.Throws<ArgumentException>(() => new NoteSigner("example.com/a", _key).Sign(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("a+b")]
    [InlineData("a\u2003b")]
    public void NoteSigner_InvalidName_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => new NoteSigner(name, _key));
    }

    [Fact]
    public void VerifierKey_ToStringThenParse_RoundTripsBothTypes()
    {
        foreach (var key in new[] { NoteVerifierKey.ForSignatures("log.example/x", _key.PublicKey), NoteVerifierKey.ForCosignatures("w.example", _key.PublicKey) })
        {
            var parsed = NoteVerifierKey.Parse(key.ToString());

            Assert.Equal(key, parsed);
            Assert.Equal(key.KeyId, parsed.KeyId);
        }
        Assert.NotEqual(NoteVerifierKey.ForSignatures("n", _key.PublicKey).KeyId, NoteVerifierKey.ForCosignatures("n", _key.PublicKey).KeyId);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("example.com/foo", "is not <name>+<hex key id>+<base64 key>")]
    [InlineData("example.com/foo+530d903a", "is not <name>+<hex key id>+<base64 key>")]
    [InlineData("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "key name is empty")]
    [InlineData("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 lowercase hex digits")]
    [InlineData("example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 lowercase hex digits")]
    [InlineData("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "not standard padded base64")]
    [InlineData("example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "signature type 0x02 is not supported")]
    [InlineData("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U0=", "32 bytes after the type byte, not 31")]
    [InlineData("example.com/fop+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match the name and key")]
    public void VerifierKeyParse_Malformed_SaysWhatIsWrong(string vkey, string reason)
    {
        var error = Assert.Throws<NoteFormatException>(() => NoteVerifierKey.Parse(vkey));

        Assert.Contains(reason, error.Message);
    }
}
