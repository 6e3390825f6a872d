using System.Text;
using Signet.Bridge.JsonRpc;

namespace Signet.Bridge.Tests;

/// <summary>Classifying and flattening JSON-RPC messages without changing them.</summary>
public sealed class RpcMessageTests
{
    [Fact]
    public void ParseBody_PrettyPrinted_BecomesOneLineWithTheSameValue()
    {
        var body = "{\r\n  \"jsonrpc\": \"2.0\",\n  \"id\": 7,\n  \"method\": \"tools/call\",\n  \"params\": {\"name\": \"echo\", \"arguments\": {\"message\": \"a\\nb\"}, \"_meta\": {\"progressToken\": \"t1\"}}\n}";
        var message = Assert.Single(RpcMessage.ParseBody(Encoding.UTF8.GetBytes(body), out var batch));
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
    public void ParseBody_Kinds_Classified(string json, string kind) =>
        Assert.Equal(kind, RpcMessage.ParseBody(Encoding.UTF8.GetBytes(json), out _)[0].Kind.ToString());

    [Fact]
    public void Error_StringId_KeepsTheIdAndEscapesNothingNeedlessly()
    {
        var text = Encoding.UTF8.GetString(RpcMessage.Error("s:ü<1>", -32099, "refusé"));
        Assert.Equal("""{"jsonrpc":"2.0","id":"ü<1>","error":{"code":-32099,"message":"refusé"}}""", text);
    }
}
