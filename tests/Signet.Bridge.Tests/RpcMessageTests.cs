using System.Text;
using Signet.Bridge.JsonRpc;

namespace Signet.Bridge.Tests;

/// <summary>Classifying and flattening JSON-RPC messages without changing them.</summary>
public sealed class RpcMessageTests
{
    private static List<RpcMessage> Parse(string json)
    {
        Assert.True(RpcMessage.TryParseBody(Encoding.UTF8.GetBytes(json), out var messages, out _, out var error), error);
        return messages;
    }

    [Fact]
    public void TryParseBody_PrettyPrinted_BecomesOneLineWithTheSameValue()
    {
        var body = "{\r\n  \"jsonrpc\": \"2.0\",\n  \"id\": 7,\n  \"method\": \"tools/call\",\n  \"params\": {\"name\": \"echo\", \"arguments\": {\"message\": \"a\\nb\"}, \"_meta\": {\"progressToken\": \"t1\"}}\n}";
        Assert.True(RpcMessage.TryParseBody(Encoding.UTF8.GetBytes(body), out var messages, out var batch, out _));
        var message = Assert.Single(messages);
        Assert.False(batch);
        Assert.DoesNotContain((byte)'\n', message.Raw);
        Assert.DoesNotContain((byte)'\r', message.Raw);
        Assert.Equal(System.Text.Json.Nodes.JsonNode.Parse(body)!.ToJsonString(), System.Text.Json.Nodes.JsonNode.Parse(message.Raw)!.ToJsonString());
        Assert.Equal((RpcKind.Request, "n:7", "s:t1", "echo"), (message.Kind, message.IdKey, message.ProgressTokenKey, message.Name));
        Assert.True(message.IsToolCall);
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", "Notification")]
    [InlineData("""{"jsonrpc":"2.0","id":"a","result":{}}""", "Response")]
    [InlineData("""{"jsonrpc":"2.0","id":null,"method":"x"}""", "Invalid")]
    [InlineData("""[1]""", "Invalid")]
    public void TryParseBody_Kinds_Classified(string json, string kind) => Assert.Equal(kind, Parse(json)[0].Kind.ToString());

    [Theory]
    [InlineData("""{"id":1,"method":"tools\/call"}""")]
    [InlineData("""{"id":true,"method":"tools/call"}""")]
    [InlineData("""{"method":"tools/call"}""")]
    [InlineData("""{"id":1,"method":"tools/list","method":"tools/call"}""")]
    public void TryParseBody_AnyToolCallShape_IsToolCall(string json) => Assert.True(Parse(json)[0].IsToolCall);

    [Fact]
    public void TryParseBody_InvalidUtf8InAString_ParseErrorNamingTheByteOffset()
    {
        var body = Encoding.UTF8.GetBytes("{\"id\":\"z_\"}");
        body[8] = 0xFF;
        Assert.False(RpcMessage.TryParseBody(body, out _, out _, out var error));
        Assert.Contains("byte offset 8", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", "1.0")]
    [InlineData("0", "-0")]
    [InlineData("9007199254740992", "9007199254740993")]
    [InlineData("1.2345678901234568e+29", "123456789012345678901234567890")]
    public void MatchKey_JavaScriptEcho_MatchesTheIdSent(string echoed, string sent) =>
        Assert.Equal(RpcId.NumberKey(sent), RpcId.NumberKey(echoed));

    [Fact]
    public void PeekId_CutShortBody_ReadsTheIdBeforeTheCut()
    {
        var start = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":"big-1","method":"tools/call","params":{"name":"x","arguments":{"s":"xxxx""");
        Assert.Equal("\"big-1\"", Encoding.UTF8.GetString(RpcMessage.PeekId(start, out _)!));
    }

    [Fact]
    public void Error_RawId_EchoedAsSentAndEscapesNothingNeedlessly()
    {
        var text = Encoding.UTF8.GetString(RpcMessage.Error(Encoding.UTF8.GetBytes("\"ü<1>\""), -32099, "refusé"));
        Assert.Equal("""{"jsonrpc":"2.0","id":"ü<1>","error":{"code":-32099,"message":"refusé"}}""", text);
    }

    [Fact]
    public void Error_RawIdThatIsNotOneJsonValue_WritesNull() =>
        Assert.Equal("""{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"m"}}""",
            Encoding.UTF8.GetString(RpcMessage.Error(Encoding.UTF8.GetBytes("1 2"), -32600, "m")));
}
