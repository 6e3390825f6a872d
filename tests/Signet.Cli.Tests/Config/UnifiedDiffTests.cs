using Signet.Cli.Config;

namespace Signet.Cli.Tests.Config;

public sealed class UnifiedDiffTests
{
    [Fact]
    public void Create_TwoSeparateChanges_TwoHunksWithContext()
    {
        var before = string.Join('\n', Enumerable.Range(1, 20).Select(i => $"line {i}")) + "\n";
        var after = before.Replace("line 3\n", "line three\n", StringComparison.Ordinal).Replace("line 18\n", "line 18\nextra\n", StringComparison.Ordinal);

        var diff = UnifiedDiff.Create(before, after, "a", "b");

        Assert.Equal(
            "--- a\n+++ b\n" +
            "@@ -1,6 +1,6 @@\n line 1\n line 2\n-line 3\n+line three\n line 4\n line 5\n line 6\n" +
            "@@ -16,5 +16,6 @@\n line 16\n line 17\n line 18\n+extra\n line 19\n line 20\n",
            diff);
    }

    [Fact]
    public void Create_EqualTexts_IsEmpty() => Assert.Equal("", UnifiedDiff.Create("x\n", "x\n", "a", "b"));
}
