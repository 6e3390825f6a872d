using Signet.Mcp;
using System.Text;

namespace Signet.Mcp.Tests;

public sealed class PendingCallsTests
{
    [Theory]
    [InlineData("n:1.0", "1")]
    [InlineData("n:1E0", "1")]
    [InlineData("n:-0", "0")]
    [InlineData("n:0.0", "0")]
    [InlineData("n:9007199254740993", "9007199254740992")]
    [InlineData("n:123456789012345678901234567890", "1.2345678901234568E+29")]
    public void NumericKey_NumberCallId_IsTheValueOfTheNearestDouble(string callId, string expected)
    {
        Assert.Equal(expected, CallId.NumericKey(callId));
    }

    [Theory]
    [InlineData("s:1")]
    [InlineData("n:abc")]
    [InlineData("n:1e400")]
    public void NumericKey_NotAFiniteNumber_IsNull(string callId)
    {
        Assert.Null(CallId.NumericKey(callId));
    }

    [Fact]
    public void TryTake_ExactCallIdPending_PreferredOverANumericMatch()
    {
        var pending = new PendingCalls<int>();
        pending.Add("n:1.0", 10);
        pending.Add("n:1", 1);

        Assert.True(pending.TryTake("n:1", out var first, out var value));
        Assert.Equal(("n:1", 1), (first, value));
        Assert.True(pending.TryTake("n:1", out var second, out value));
        Assert.Equal(("n:1.0", 10), (second, value));
        Assert.True(pending.IsEmpty);
    }

    [Fact]
    public void TryTake_SeveralWithTheSameValue_OldestFirst()
    {
        var pending = new PendingCalls<int>();
        pending.Add("n:9007199254740993", 1);
        pending.Add("n:9007199254740994", 2);

        Assert.True(pending.TryTake("n:9007199254740992", out var callId, out _));
        Assert.Equal("n:9007199254740993", callId);
        Assert.Equal(["n:9007199254740994"], pending.CallIds);
    }

    [Fact]
    public void TryTake_StringIds_MatchOnlyExactly()
    {
        var pending = new PendingCalls<int>();
        pending.Add("s:1", 1);

        Assert.False(pending.TryTake("n:1", out _, out _));
        Assert.False(pending.TryRemove("s:01", out _));
        Assert.True(pending.TryRemove("s:1", out _));
        Assert.Equal(0, pending.Count);
    }
}
