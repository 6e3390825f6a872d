using Signet.Mcp.Tests.Interop;

namespace Signet.Bridge.Tests;

/// <summary>The official TypeScript SDK's Streamable HTTP client, with the token, through the bridge: the same as direct.</summary>
public sealed class TsClientInteropTests
{
    [Fact]
    public async Task TsStreamableHttpClient_ThroughBridge_SameDocumentAsDirectStdio()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        var direct = (await TsClient.StdioAsync("everything", [], NpmPeers.Node, [NpmPeers.ServerEverything, "stdio"])).Succeeded();
        var viaBridge = (await TsClient.HttpAsync("everything", [], bridge.Url, ["Authorization: Bearer " + BridgeHarness.Token])).Succeeded();
        Assert.Equal(direct.ToJsonString(), viaBridge.ToJsonString());
        Assert.NotEmpty(bridge.Recorder.Requests);
        Assert.Equal(bridge.Recorder.Requests.Count, bridge.Recorder.Responses.Count);
    }

    [Fact]
    public async Task TsStreamableHttpClient_WrongToken_Fails()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        var run = await TsClient.HttpAsync("everything", [], bridge.Url, ["Authorization: Bearer not-the-token-0123456789"]);
        Assert.NotEqual(0, run.Process.ExitCode);
        Assert.Contains("Unauthorized", run.Process.ToString(), StringComparison.Ordinal);
        Assert.Empty(bridge.Server.Sessions.Sessions);
    }
}
