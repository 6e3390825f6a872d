using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class CheckpointTests
{
    private const string Root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";

    [Fact]
    public void Parse_SpecExampleBody_ReadsTheThreeLines()
    {
        var checkpoint = Checkpoint.Parse($"example.com/behind-the-sofa\n20852163\n{Root}\n");

        Assert.Equal("example.com/behind-the-sofa", checkpoint.Origin);
        Assert.Equal(20852163, checkpoint.Size);
        Assert.Equal(Convert.FromBase64String(Root), checkpoint.RootHash);
        Assert.Equal($"example.com/behind-the-sofa\n20852163\n{Root}\n", checkpoint.ToText());
    }

    [Fact]
    public void Parse_ExtensionLinesAndEmptyTree_RoundTrip()
    {
        var text = $"origin with spaces is allowed\n0\n{Root}\next one\next two\n";

        var checkpoint = Checkpoint.Parse(text);

        Assert.Equal(0, checkpoint.Size);
        Assert.Equal(["ext one", "ext two"], checkpoint.Extensions);
        Assert.Equal(text, checkpoint.ToText());
    }

    [Theory]
    [InlineData("example.com/log\n5\n" + Root, 3, "does not end in a newline")]
    [InlineData("example.com/log\n5\n", 3, "at least three lines")]
    [InlineData("\n5\n" + Root + "\n", 1, "origin is empty")]
    [InlineData("example.com/log\n\n" + Root + "\n", 2, "tree size is empty")]
    [InlineData("example.com/log\n05\n" + Root + "\n", 2, "leading zeros")]
    [InlineData("example.com/log\n+5\n" + Root + "\n", 2, "without sign")]
    [InlineData("example.com/log\n-1\n" + Root + "\n", 2, "without sign")]
    [InlineData("example.com/log\n99999999999999999999\n" + Root + "\n", 2, "decimal number")]
    [InlineData("example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", 3, "base64 of 32 bytes")]
    [InlineData("example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n", 3, "base64 of 32 bytes")]
    [InlineData("example.com/log\n5\n" + Root + "\next\n\nmore\n", 5, "extension line is empty")]
    [InlineData("example.com/log\n5\n" + Root + "\nbad\u0001\n", 4, "U+0001")]
    public void Parse_Malformed_ThrowsNamingTheLine(string text, int line, string reason)
    {
        var error = Assert.Throws<NoteFormatException>(() => Checkpoint.Parse(text));

        Assert.Equal(line, error.Line);
        Assert.Contains(reason, error.Message);
        Assert.Contains($"line {line}", error.Message);
    }

    [Fact]
    public void SignedCheckpointParse_BadCheckpointInsideANote_NamesTheLineOfTheNote()
    {
        var error = Assert.Throws<NoteFormatException>(() => SignedCheckpoint.Parse("example.com/log\nfive\n" + Root + "\n\n— a AAAAAAA=\n"));

        Assert.Equal(2, error.Line);
        Assert.Contains("tree size", error.Message);
    }

    [Fact]
    public void Constructor_NewlineInOriginOrWrongHashLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => new Checkpoint("a\nb", 1, new byte[32]));
        Assert.Throws<ArgumentException>(() => new Checkpoint("a", 1, new byte[31]));
        Assert.Throws<ArgumentException>(() => new Checkpoint("a", 1, new byte[32], [""]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Checkpoint("a", -1, new byte[32]));
    }
}
