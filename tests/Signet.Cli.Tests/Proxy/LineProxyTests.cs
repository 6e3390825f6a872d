using Signet.Mcp;
using System.Text;
using System.Text.Json.Nodes;
using Signet.Cli.Proxy;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Cli.Tests.Proxy;

public sealed class LineProxyTests
{
    private const string Call7 = """{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hé <&> 😀","n":1.0,"big":1E+21},"_meta":{"progressToken":"p-1"}}}""";

    private static readonly string[] PassThroughLines =
    [
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}\n",
        "{ \"jsonrpc\" : \"2.0\", \"id\" : 2, \"method\" : \"tools/list\" }\r\n",
        "{this is not json\n",
        "\n",
        "[1, 2, \"batch of junk\"]\n",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"text\":\"ü <&> \u2028 😀 1.50 1e400\"}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"ping\",\"params\":{\"dup\":1,\"dup\":2}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{\"note\":\"tools/call\"}}\n",
        "  {\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"roots\":[]}}  \n",
    ];

    [Fact]
    public async Task Upstream_LinesThatAreNotSignableCalls_ReachServerByteIdentical()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        var expected = Encoding.UTF8.GetBytes(string.Concat(PassThroughLines));
        foreach (var line in PassThroughLines)
        {
            await harness.ClientSendsAsync(line);
        }

        Assert.Equal(expected, await harness.ServerReceivesBytesAsync(expected.Length));
        Assert.Empty(harness.Recorder.Requests);
    }

    [Fact]
    public async Task Downstream_ServerLines_ReachClientByteIdentical()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        await harness.ClientSendsAsync(Call7 + "\n");
        await harness.ServerReceivesLineAsync(); // a pending call makes the proxy look at server lines
        var lines = PassThroughLines.Append("{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"sampling/createMessage\",\"params\":{\"messages\":[]}}\n").ToArray();
        var expected = Encoding.UTF8.GetBytes(string.Concat(lines));
        foreach (var line in lines)
        {
            await harness.ServerSendsAsync(line);
        }

        Assert.Equal(expected, await harness.ClientReceivesBytesAsync(expected.Length));
        Assert.Empty(harness.Recorder.Responses);
    }

    [Fact]
    public async Task Upstream_ToolsCall_IsRecordedAndForwardedWithReceiptKeepingLexemesAndMeta()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        await harness.ClientSendsAsync(Call7 + "\r\n");

        var forwarded = await harness.ServerReceivesLineAsync();
        Assert.EndsWith("}\r\n", forwarded, StringComparison.Ordinal);
        // Re-serialized without HTML or non-ASCII escaping; only characters outside the BMP become \u escapes.
        Assert.Contains("\"message\":\"hé <&> \\uD83D\\uDE00\"", forwarded, StringComparison.Ordinal);
        Assert.Equal("hé <&> 😀", (string?)JsonNode.Parse(forwarded)!["params"]!["arguments"]!["message"]);
        Assert.Contains("\"n\":1.0,\"big\":1E+21", forwarded, StringComparison.Ordinal);
        var meta = JsonNode.Parse(forwarded)!["params"]!["_meta"]!.AsObject();
        Assert.Equal("p-1", (string?)meta["progressToken"]);
        Assert.Equal("n:7", (string?)meta[RecorderDouble.MetaKey]);
        Assert.Equal("n:7", Assert.Single(harness.Recorder.Requests).CallId);
        Assert.Equal(1, harness.Engine.PendingCalls);
    }

    [Fact]
    public async Task Downstream_ResponseToPendingCall_IsRecordedAndDeliveredByteIdentical()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        await harness.ClientSendsAsync(Call7.Replace("\"id\":7", "\"id\":\"abc\"", StringComparison.Ordinal) + "\n");
        await harness.ServerReceivesLineAsync();
        const string response = "{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"Echo: hé\"}]},\"jsonrpc\":\"2.0\",\"id\":\"abc\"}\n";

        await harness.ServerSendsAsync(response);

        Assert.Equal(response, await harness.ClientReceivesLineAsync());
        var recorded = Assert.Single(harness.Recorder.Responses);
        Assert.Equal("s:abc", recorded.CallId);
        Assert.Equal("Echo: hé", (string?)JsonNode.Parse(recorded.Result!)!["content"]![0]!["text"]);
        Assert.Null(recorded.Error);
        Assert.Equal(0, harness.Engine.PendingCalls);
    }

    [Fact]
    public async Task Downstream_ErrorResponseToPendingCall_IsRecordedAsError()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        await harness.ClientSendsAsync(Call7 + "\n");
        await harness.ServerReceivesLineAsync();
        const string response = "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32602,\"message\":\"Unknown tool\"}}\n";

        await harness.ServerSendsAsync(response);

        Assert.Equal(response, await harness.ClientReceivesLineAsync());
        var recorded = Assert.Single(harness.Recorder.Responses);
        Assert.Null(recorded.Result);
        Assert.Contains("Unknown tool", recorded.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_RefusingRecorder_ClientGetsErrorAndServerNeverSeesCall()
    {
        await using var harness = new PipeHarness(new RecorderDouble { RefuseRequests = "the audit log is not writable: /x/audit (Permission denied)" });
        await harness.ClientSendsAsync(Call7 + "\n");
        await harness.ClientSendsAsync("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}\n");

        var error = JsonNode.Parse(await harness.ClientReceivesLineAsync())!;
        Assert.Equal("2.0", (string?)error["jsonrpc"]);
        Assert.Equal(7, (int)error["id"]!);
        Assert.Equal(ToolCallRefusedException.JsonRpcErrorCode, (int)error["error"]!["code"]!);
        Assert.Equal("signet: the audit log is not writable: /x/audit (Permission denied)", (string?)error["error"]!["message"]);
        Assert.Equal("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}\n", await harness.ServerReceivesLineAsync());
        Assert.Equal(0, harness.Engine.PendingCalls);
    }

    [Fact]
    public async Task Upstream_RecorderThrowsOtherException_FailsClosedNamingCause()
    {
        var recorder = new ThrowingRecorder(new IOException("No space left on device"));
        var harness = new PipeHarnessFor(recorder);
        await harness.ClientSendsAsync(Call7 + "\n");

        var error = JsonNode.Parse(await harness.ClientReceivesLineAsync())!;
        Assert.Equal("signet: the call could not be signed and logged: No space left on device", (string?)error["error"]!["message"]);
        await harness.DisposeAsync();
        Assert.Empty(harness.ServerBytes);
    }

    [Fact]
    public async Task Upstream_RefusingRecorderWithFailOpen_ForwardsOriginalBytes()
    {
        await using var harness = new PipeHarness(new RecorderDouble { RefuseRequests = "no key", Options = DoubleCalls.Options(failOpen: true) });
        await harness.ClientSendsAsync(Call7 + "\n");

        Assert.Equal(Call7 + "\n", await harness.ServerReceivesLineAsync());
        Assert.Single(harness.Recorder.Requests);
    }

    [Fact]
    public async Task Downstream_RefusedResponse_IsReplacedByErrorForThatId()
    {
        await using var harness = new PipeHarness(new RecorderDouble { RefuseResponses = "the server's co-signature is missing" });
        await harness.ClientSendsAsync(Call7 + "\n");
        await harness.ServerReceivesLineAsync();

        await harness.ServerSendsAsync("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[]}}\n");

        var error = JsonNode.Parse(await harness.ClientReceivesLineAsync())!;
        Assert.Equal(7, (int)error["id"]!);
        Assert.Null(error["result"]);
        Assert.Equal("signet: the server's co-signature is missing", (string?)error["error"]!["message"]);
    }

    [Fact]
    public async Task Downstream_RefusedResponseWithFailOpen_IsDelivered()
    {
        await using var harness = new PipeHarness(new RecorderDouble { RefuseResponses = "co-signature missing", Options = DoubleCalls.Options(failOpen: true) });
        await harness.ClientSendsAsync(Call7 + "\n");
        await harness.ServerReceivesLineAsync();
        const string response = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[]}}\n";

        await harness.ServerSendsAsync(response);

        Assert.Equal(response, await harness.ClientReceivesLineAsync());
    }

    [Fact]
    public async Task Upstream_DuplicateKeyToolsCall_IsRefusedAndNeverForwarded()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        await harness.ClientSendsAsync("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"name\":\"rm\"}}\n");
        await harness.ClientSendsAsync("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}\n");

        var error = JsonNode.Parse(await harness.ClientReceivesLineAsync())!;
        Assert.Equal(5, (int)error["id"]!);
        Assert.Contains("duplicate key", (string?)error["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}\n", await harness.ServerReceivesLineAsync());
        Assert.Empty(harness.Recorder.Requests);
    }

    [Fact]
    public async Task Upstream_EscapedMethodName_IsStillSigned()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        await harness.ClientSendsAsync("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools\\/c\\u0061ll\",\"params\":{\"name\":\"echo\"}}\n");

        var forwarded = JsonNode.Parse(await harness.ServerReceivesLineAsync())!;
        Assert.Equal("tools/call", (string?)forwarded["method"]);
        Assert.Equal("n:5", (string?)forwarded["params"]!["_meta"]![RecorderDouble.MetaKey]);
    }

    [Fact]
    public async Task Upstream_Batch_CallsSignedRefusedOnesAnsweredAndRemoved()
    {
        var recorder = new RecorderDouble();
        await using var harness = new PipeHarness(recorder);
        await harness.ClientSendsAsync("""[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","method":"notifications/initialized"}]""" + "\n");

        var forwarded = JsonNode.Parse(await harness.ServerReceivesLineAsync())!.AsArray();
        Assert.Equal(2, forwarded.Count);
        Assert.Equal("n:1", (string?)forwarded[0]!["params"]!["_meta"]![RecorderDouble.MetaKey]);
        Assert.Equal("notifications/initialized", (string?)forwarded[1]!["method"]);

        recorder.RefuseRequests = "no";
        await harness.ClientSendsAsync("""[{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","id":3,"method":"ping"}]""" + "\n");
        Assert.Equal(2, (int)JsonNode.Parse(await harness.ClientReceivesLineAsync())!["id"]!);
        var rest = JsonNode.Parse(await harness.ServerReceivesLineAsync())!.AsArray();
        Assert.Equal("ping", (string?)Assert.Single(rest)!["method"]);
    }

    [Fact]
    public async Task Downstream_BatchResponse_RecordsEachPendingCall()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        await harness.ClientSendsAsync("""[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"b"}}]""" + "\n");
        await harness.ServerReceivesLineAsync();
        const string response = """[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{"x":1}}]""" + "\n";

        await harness.ServerSendsAsync(response);

        Assert.Equal(response, await harness.ClientReceivesLineAsync());
        Assert.Equal(["n:1", "n:2"], harness.Recorder.Responses.Select(r => r.CallId));
    }

    [Fact]
    public async Task Upstream_LineOverLimit_IsNotForwardedAndClientGetsErrorWithTheIdFromItsFirstBytes()
    {
        await using var harness = new PipeHarness(new RecorderDouble(), new LineProxyOptions { MaxLineBytes = 100 });
        var big = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"" + new string('x', 5000) + "\"}}\n";
        await harness.ClientSendsAsync(big);
        await harness.ClientSendsAsync("{\"id\":2}\n");

        var error = JsonNode.Parse(await harness.ClientReceivesLineAsync())!;
        Assert.Equal(1, (int)error["id"]!);
        Assert.Contains("exceeds the proxy's line limit of 100 bytes", (string?)error["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal("{\"id\":2}\n", await harness.ServerReceivesLineAsync());
    }

    [Theory]
    // Found by the proxy-line fuzz target: lines the strict parser refuses that escape a lone surrogate in a member name
    // or value once ended the upstream loop, so nothing after them was forwarded.
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"\\ud800result\":{}}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":\"\\udc00\",\"method\":\"ping\"}")]
    public async Task Upstream_LineEscapingALoneSurrogate_IsForwardedAndTheSessionGoesOn(string line)
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        await harness.ClientSendsAsync(line + "\n");
        await harness.ClientSendsAsync("{\"id\":2}\n");

        Assert.Equal(line + "\n", await harness.ServerReceivesLineAsync());
        Assert.Equal("{\"id\":2}\n", await harness.ServerReceivesLineAsync());
    }

    [Fact]
    public async Task Upstream_LineOverLimitWithIdPastItsFirstBytes_ClientGetsNullIdError()
    {
        await using var harness = new PipeHarness(new RecorderDouble(), new LineProxyOptions { MaxLineBytes = 100 });
        var big = "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"" + new string('x', 2 * LineProxy.OversizedIdScanBytes) + "\"},\"id\":1}\n";
        await harness.ClientSendsAsync(big);
        await harness.ClientSendsAsync("{\"id\":2}\n");

        var error = JsonNode.Parse(await harness.ClientReceivesLineAsync())!;
        Assert.Null(error["id"]);
        Assert.Equal("{\"id\":2}\n", await harness.ServerReceivesLineAsync());
    }

    [Fact]
    public async Task Upstream_LineOverLimitWithFailOpen_IsForwardedUnchanged()
    {
        await using var harness = new PipeHarness(new RecorderDouble { Options = DoubleCalls.Options(failOpen: true) }, new LineProxyOptions { MaxLineBytes = 100 });
        var big = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"name\":\"" + new string('x', 200_000) + "\"}}\n";
        var send = harness.ClientSendsAsync(big);

        Assert.Equal(big, Encoding.UTF8.GetString(await harness.ServerReceivesBytesAsync(Encoding.UTF8.GetByteCount(big))));
        await send;
    }

    [Fact]
    public async Task Downstream_LineOverLimit_IsForwardedUnchanged()
    {
        await using var harness = new PipeHarness(new RecorderDouble(), new LineProxyOptions { MaxLineBytes = 400 });
        await harness.ClientSendsAsync(Call7 + "\n");
        await harness.ServerReceivesLineAsync();
        var big = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"data\":\"" + new string('y', 300_000) + "\"}}\n";
        var send = harness.ServerSendsAsync(big);

        Assert.Equal(big, Encoding.UTF8.GetString(await harness.ClientReceivesBytesAsync(big.Length)));
        await send;
        await harness.ServerSendsAsync("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n");
        Assert.Equal("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n", await harness.ClientReceivesLineAsync());
    }

    [Fact]
    public async Task BothDirections_TenMegabyteMessages_PassByteIdentical()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        var payload = new string('z', 10 * 1024 * 1024);
        var request = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":{\"blob\":\"" + payload + "\"}}\n";
        var call = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"" + payload + "\"}}}\n";
        var send = Task.Run(async () =>
        {
            await harness.ClientSendsAsync(request);
            await harness.ClientSendsAsync(call);
        });

        Assert.Equal(request, Encoding.UTF8.GetString(await harness.ServerReceivesBytesAsync(request.Length)));
        var signed = JsonNode.Parse(await harness.ServerReceivesLineAsync())!;
        Assert.Equal(payload, (string?)signed["params"]!["arguments"]!["message"]);
        await send;

        var response = "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"" + payload + "\"}]}}\n";
        var reply = harness.ServerSendsAsync(response);
        Assert.Equal(response, Encoding.UTF8.GetString(await harness.ClientReceivesBytesAsync(response.Length)));
        await reply;
        Assert.Equal("n:2", Assert.Single(harness.Recorder.Responses).CallId);
    }

    [Fact]
    public async Task Upstream_BurstOfThousandLines_ArrivesInOrder()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        var builder = new StringBuilder();
        for (var i = 0; i < 1000; i++)
        {
            builder.Append(i % 10 == 0
                ? $"{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\"}}}}\n"
                : $"{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"ping\"}}\n");
        }
        var send = harness.ClientSendsAsync(builder.ToString());

        for (var i = 0; i < 1000; i++)
        {
            var line = JsonNode.Parse(await harness.ServerReceivesLineAsync())!;
            Assert.Equal(i, (int)line["id"]!);
        }
        await send;
        Assert.Equal(100, harness.Recorder.Requests.Count);
    }

    [Fact]
    public async Task Upstream_LineAfterCallBeingSigned_DoesNotOvertakeIt()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = new PipeHarness(new RecorderDouble { Gate = gate });
        await harness.ClientSendsAsync(Call7 + "\n" + "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":7}}\n");
        gate.SetResult();

        Assert.Contains("tools/call", await harness.ServerReceivesLineAsync(), StringComparison.Ordinal);
        Assert.Contains("notifications/cancelled", await harness.ServerReceivesLineAsync(), StringComparison.Ordinal);
        Assert.Equal(0, harness.Engine.PendingCalls);
    }

    [Fact]
    public async Task FailPending_CallsWithoutResponse_GetErrorNamingCause()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        await harness.ClientSendsAsync(Call7 + "\n");
        await harness.ServerReceivesLineAsync();

        await harness.Engine.FailPendingAsync("the tool server exited with code 3 before answering this call");

        var error = JsonNode.Parse(await harness.ClientReceivesLineAsync())!;
        Assert.Equal(7, (int)error["id"]!);
        Assert.Equal("signet: the tool server exited with code 3 before answering this call", (string?)error["error"]!["message"]);
        Assert.Equal(0, harness.Engine.PendingCalls);
    }

    [Fact]
    public async Task Upstream_ClientEof_EndsUpstreamLoopWithTrue()
    {
        await using var harness = new PipeHarness(new RecorderDouble());
        const string last = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
        await harness.ClientSendsAsync(last);

        await harness.ClientClosesAsync();

        Assert.Equal(last, Encoding.UTF8.GetString(await harness.ServerReceivesBytesAsync(last.Length)));
    }

    /// <summary>A recorder whose RecordRequestAsync fails with an arbitrary exception.</summary>
    private sealed class ThrowingRecorder(Exception exception) : IToolCallRecorder
    {
        public SignetOptions Options { get; } = DoubleCalls.Options();

        public ValueTask<Signet.Mcp.Recording.RecordedCall> RecordRequestAsync(JsonObject callParams, string callId, string? sessionId, string? parentReceiptId,
            CancellationToken cancellationToken = default) => throw exception;

        public ValueTask RecordResponseAsync(Signet.Mcp.Recording.RecordedCall call, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default) =>
            ValueTask.CompletedTask;
    }

    /// <summary>A harness over an arbitrary recorder that captures everything the server was sent.</summary>
    private sealed class PipeHarnessFor
    {
        private readonly System.IO.Pipelines.Pipe _clientToProxy = new();
        private readonly System.IO.Pipelines.Pipe _proxyToClient = new();
        private readonly MemoryStream _server = new();
        private readonly LineProxy _engine;
        private readonly Task _upstream;

        public PipeHarnessFor(IToolCallRecorder recorder)
        {
            _engine = new LineProxy(recorder, _proxyToClient.Writer.AsStream(), _server);
            _upstream = _engine.RunUpstreamAsync(_clientToProxy.Reader.AsStream());
        }

        public byte[] ServerBytes => _server.ToArray();

        public Task ClientSendsAsync(string text) => _clientToProxy.Writer.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

        public async Task<string> ClientReceivesLineAsync()
        {
            using var reader = new StreamReader(_proxyToClient.Reader.AsStream(), leaveOpen: true);
            return await reader.ReadLineAsync().WaitAsync(PipeHarness.Timeout) ?? "";
        }

        public async Task DisposeAsync()
        {
            await _clientToProxy.Writer.CompleteAsync();
            await _upstream.WaitAsync(PipeHarness.Timeout);
            _engine.Dispose();
        }
    }
}
