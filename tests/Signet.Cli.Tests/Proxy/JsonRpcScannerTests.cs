using System.Text;
using Signet.Cli.Proxy;

namespace Signet.Cli.Tests.Proxy;

public sealed class JsonRpcScannerTests
{
    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"x""", "12")]
    [InlineData("""{ "id" : "a\"b" , "params":{""", "\"a\\\"b\"")]
    [InlineData("""{"params":{"name":"x","arguments":{"pad":"xxxx""", "")]
    [InlineData("""{"jsonrpc":"2.0","id":12""", "")]
    [InlineData("""[{"id":1""", "")]
    public void LeadingId_FirstBytesOfAnOversizedLine_IdOnlyWhenCompleteBeforeTheCut(string prefix, string expected)
    {
        Assert.Equal(expected, Encoding.UTF8.GetString(JsonRpcScanner.LeadingId(Encoding.UTF8.GetBytes(prefix)).Span));
    }
}
