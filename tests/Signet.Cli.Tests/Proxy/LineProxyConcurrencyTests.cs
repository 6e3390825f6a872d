using System.IO.Pipelines;
using System.Text;
using System.Text.Json.Nodes;
using Signet.Cli.Proxy;
using Signet.Mcp;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Cli.Tests.Proxy;

/// <summary>
/// Recording overlaps across calls (so concurrent calls can share fsyncs) while every line still goes out in the
/// order it arrived.
/// </summary>
public sealed class LineProxyConcurrencyTests
{
    private const string Progress = """{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1}}""";
    private const string CancelCall1 = """{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"user"}}""";
    private const string Ping = """{"jsonrpc":"2.0","id":9,"method":"ping"}""";

    private static string Call(int id) =>
        "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"m" + id + "\"}}}";

    [Fact]
    public async Task Upstream_RecordingsFinishingOutOfOrder_LinesReachServerInArrivalOrder()
    {
        var recorder = new GatedRecorder(expectedRequests: 3);
        await using var harness = new PipeHarness(recorder);
        await harness.ClientSendsAsync(string.Join("\n", Call(1), Progress, Call(2), CancelCall1, Call(3), Ping) + "\n");

        // All three calls are being recorded at once: none waits for the one before it.
        await recorder.RequestsInFlight;
        recorder.ReleaseRequest("n:3");
        recorder.ReleaseRequest("n:2");
        recorder.ReleaseRequest("n:1");

        var call1 = JsonNode.Parse(await harness.ServerReceivesLineAsync())!;
        Assert.Equal(1, (int)call1["id"]!);
        Assert.Equal("n:1", (string?)call1["params"]!["_meta"]![RecorderDouble.MetaKey]);
        Assert.Equal(Progress + "\n", await harness.ServerReceivesLineAsync());
        Assert.Equal(2, (int)JsonNode.Parse(await harness.ServerReceivesLineAsync())!["id"]!);
        Assert.Equal(CancelCall1 + "\n", await harness.ServerReceivesLineAsync());
        Assert.Equal(3, (int)JsonNode.Parse(await harness.ServerReceivesLineAsync())!["id"]!);
        Assert.Equal(Ping + "\n", await harness.ServerReceivesLineAsync());
        // The cancellation was applied after the call it cancels had been forwarded, not when it was read.
        Assert.Equal(2, harness.Engine.PendingCalls);
    }

    [Fact]
    public async Task Upstream_RefusedCallBetweenOthers_OthersForwardedInOrderAndClientGetsErrorForIt()
    {
        var recorder = new GatedRecorder(expectedRequests: 3);
        await using var harness = new PipeHarness(recorder);
        await harness.ClientSendsAsync(string.Join("\n", Call(1), Call(2), Call(3), Ping) + "\n");

        await recorder.RequestsInFlight;
        recorder.ReleaseRequest("n:2", "the audit log is not writable: /x/audit (Permission denied)");
        recorder.ReleaseRequest("n:3");
        recorder.ReleaseRequest("n:1");

        Assert.Equal(1, (int)JsonNode.Parse(await harness.ServerReceivesLineAsync())!["id"]!);
        Assert.Equal(3, (int)JsonNode.Parse(await harness.ServerReceivesLineAsync())!["id"]!);
        Assert.Equal(Ping + "\n", await harness.ServerReceivesLineAsync());
        var error = JsonNode.Parse(await harness.ClientReceivesLineAsync())!;
        Assert.Equal(2, (int)error["id"]!);
        Assert.Equal(ToolCallRefusedException.JsonRpcErrorCode, (int)error["error"]!["code"]!);
        Assert.Equal("signet: the audit log is not writable: /x/audit (Permission denied)", (string?)error["error"]!["message"]);
        Assert.Equal(2, harness.Engine.PendingCalls);
    }

    [Fact]
    public async Task Upstream_BatchWithRefusedCallAmongConcurrentCalls_KeepsOrderAndRemovesOnlyTheRefusedOne()
    {
        var recorder = new GatedRecorder(expectedRequests: 3);
        await using var harness = new PipeHarness(recorder);
        await harness.ClientSendsAsync(Call(1) + "\n" + "[" + Call(2) + "," + Progress + "," + Call(3) + "]\n" + Ping + "\n");

        await recorder.RequestsInFlight;
        recorder.ReleaseRequest("n:3");
        recorder.ReleaseRequest("n:2", "refused");
        recorder.ReleaseRequest("n:1");

        Assert.Equal(1, (int)JsonNode.Parse(await harness.ServerReceivesLineAsync())!["id"]!);
        var batch = JsonNode.Parse(await harness.ServerReceivesLineAsync())!.AsArray();
        Assert.Equal(2, batch.Count);
        Assert.Equal("notifications/progress", (string?)batch[0]!["method"]);
        Assert.Equal("n:3", (string?)batch[1]!["params"]!["_meta"]![RecorderDouble.MetaKey]);
        Assert.Equal(Ping + "\n", await harness.ServerReceivesLineAsync());
        Assert.Equal(2, (int)JsonNode.Parse(await harness.ClientReceivesLineAsync())!["id"]!);
    }

    [Fact]
    public async Task Downstream_ResponseRecordingsFinishingOutOfOrder_DeliveredInServerOrder()
    {
        var recorder = new GatedRecorder(expectedRequests: 3, expectedResponses: 3);
        await using var harness = new PipeHarness(recorder);
        await harness.ClientSendsAsync(string.Join("\n", Call(1), Call(2), Call(3)) + "\n");
        await recorder.RequestsInFlight;
        recorder.ReleaseRequest("n:1");
        recorder.ReleaseRequest("n:2");
        recorder.ReleaseRequest("n:3");
        for (var i = 0; i < 3; i++)
        {
            await harness.ServerReceivesLineAsync();
        }

        const string response2 = """{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"two"}]}}""";
        const string log = """{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"between"}}""";
        const string response1 = """{"jsonrpc":"2.0","id":1,"result":{"content":[]}}""";
        const string response3 = """{ "jsonrpc": "2.0", "id": 3, "result": {"content": []} }""";
        await harness.ServerSendsAsync(string.Join("\n", response2, log, response1, response3) + "\n");

        await recorder.ResponsesInFlight;
        recorder.ReleaseResponse("n:3");
        recorder.ReleaseResponse("n:1", "the server's co-signature is missing");
        recorder.ReleaseResponse("n:2");

        Assert.Equal(response2 + "\n", await harness.ClientReceivesLineAsync());
        Assert.Equal(log + "\n", await harness.ClientReceivesLineAsync());
        var error = JsonNode.Parse(await harness.ClientReceivesLineAsync())!;
        Assert.Equal(1, (int)error["id"]!);
        Assert.Equal("signet: the server's co-signature is missing", (string?)error["error"]!["message"]);
        Assert.Equal(response3 + "\n", await harness.ClientReceivesLineAsync());
        Assert.Equal(0, harness.Engine.PendingCalls);
    }

    [Fact]
    public async Task Upstream_BigLinesBehindCallBeingRecorded_WaitForItAndKeepOrder()
    {
        var recorder = new GatedRecorder(expectedRequests: 1) { Options = DoubleCalls.Options(failOpen: true) };
        await using var harness = new PipeHarness(recorder, new LineProxyOptions { MaxLineBytes = 3 * 1024 * 1024 });
        var big = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"data\":\"" + new string('b', 2 * 1024 * 1024) + "\"}}\n";
        var oversized = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"data\":\"" + new string('o', 4 * 1024 * 1024) + "\"}}\n";
        var send = Task.Run(() => harness.ClientSendsAsync(Call(1) + "\n" + big + oversized + Ping + "\n"));

        await recorder.RequestsInFlight;
        recorder.ReleaseRequest("n:1");

        Assert.Equal(1, (int)JsonNode.Parse(await harness.ServerReceivesLineAsync())!["id"]!);
        Assert.Equal(big, Encoding.UTF8.GetString(await harness.ServerReceivesBytesAsync(big.Length)));
        Assert.Equal(oversized, Encoding.UTF8.GetString(await harness.ServerReceivesBytesAsync(oversized.Length)));
        Assert.Equal(Ping + "\n", await harness.ServerReceivesLineAsync());
        await send.WaitAsync(PipeHarness.Timeout);
    }

    [Fact]
    public async Task Upstream_ClientEofWhileCallsAreRecorded_EndsOnlyAfterTheyAreForwarded()
    {
        var recorder = new GatedRecorder(expectedRequests: 2);
        await using var harness = new PipeHarness(recorder);
        await harness.ClientSendsAsync(Call(1) + "\n" + Call(2) + "\n" + Ping);
        var closing = harness.ClientClosesAsync();

        await recorder.RequestsInFlight;
        Assert.False(harness.Upstream.IsCompleted); // both calls are held by the recorder, so nothing can have ended
        recorder.ReleaseRequest("n:2");
        recorder.ReleaseRequest("n:1");
        await closing;

        Assert.Equal(1, (int)JsonNode.Parse(await harness.ServerReceivesLineAsync())!["id"]!);
        Assert.Equal(2, (int)JsonNode.Parse(await harness.ServerReceivesLineAsync())!["id"]!);
        Assert.Equal(Ping, Encoding.UTF8.GetString(await harness.ServerReceivesBytesAsync(Ping.Length)));
    }

    [Fact]
    public async Task Upstream_ServerInputClosedWithCallsQueued_EveryCallGetsAnError()
    {
        var recorder = new GatedRecorder(expectedRequests: 3);
        var clientToProxy = new Pipe();
        var proxyToClient = new Pipe();
        using var engine = new LineProxy(recorder, proxyToClient.Writer.AsStream(), new BrokenPipeStream());
        var upstream = engine.RunUpstreamAsync(clientToProxy.Reader.AsStream());
        await clientToProxy.Writer.WriteAsync(Encoding.UTF8.GetBytes(string.Join("\n", Call(1), Call(2), Call(3)) + "\n"));

        await recorder.RequestsInFlight;
        recorder.ReleaseRequest("n:3", "refused");
        recorder.ReleaseRequest("n:2");
        recorder.ReleaseRequest("n:1");

        Assert.False(await upstream.WaitAsync(PipeHarness.Timeout)); // the server's input is closed
        await engine.FailPendingAsync("the tool server exited with code 1 before answering this call");
        await proxyToClient.Writer.CompleteAsync();
        var answers = new Dictionary<int, string>();
        using (var reader = new StreamReader(proxyToClient.Reader.AsStream()))
        {
            while (await reader.ReadLineAsync().WaitAsync(PipeHarness.Timeout) is { } line)
            {
                var error = JsonNode.Parse(line)!;
                answers.Add((int)error["id"]!, (string)error["error"]!["message"]!);
            }
        }

        // Call 1 reached the write (it is pending), call 2 was signed but never forwarded, call 3 was refused.
        Assert.Equal("signet: the tool server exited with code 1 before answering this call", answers[1]);
        Assert.Equal("signet: the call was not forwarded: the server stopped accepting messages (Broken pipe)", answers[2]);
        Assert.Equal("signet: refused", answers[3]);
        Assert.Equal(3, answers.Count);
        Assert.Equal(0, engine.PendingCalls);
    }

    /// <summary>The server's stdin after the server has exited: every write fails as EPIPE does.</summary>
    private sealed class BrokenPipeStream : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => throw new IOException("Broken pipe");

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("Broken pipe");
    }
}
