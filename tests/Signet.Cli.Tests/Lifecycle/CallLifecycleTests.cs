using System.Buffers;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Bridge;
using Signet.Cli.Proxy;
using Signet.Mcp;
using Signet.Mcp.Client;
using Signet.Mcp.Recording;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;
using Signet.Receipts;

namespace Signet.Cli.Tests.Lifecycle;

/// <summary>
/// The call lifecycle cases (cancel, refuse, fail-open, connection lost with calls pending, co-signature required)
/// through every adapter over <see cref="ToolCallSession"/>: the library transport, the stdio proxy,
/// <c>proxy --url</c>, and the bridge's stdio and remote backends, each in front of a real node tool server. Every
/// adapter must give the same answer to the client and leave the same receipts.
/// </summary>
public sealed class CallLifecycleTests
{
    public static TheoryData<string> Adapters() => ["transport", "stdio", "url", "bridge-stdio", "bridge-remote"];

    private const string Initialize = """{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"lifecycle","version":"1"}}}""";

    private static string Call(int id, string tool) => new JsonObject
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id,
        ["method"] = "tools/call",
        ["params"] = new JsonObject { ["name"] = tool, ["arguments"] = new JsonObject { ["n"] = id } },
    }.ToJsonString();

    private static string Cancel(int id) => new JsonObject
    {
        ["jsonrpc"] = "2.0",
        ["method"] = "notifications/cancelled",
        ["params"] = new JsonObject { ["requestId"] = id, ["reason"] = "the user stopped it" },
    }.ToJsonString();

    /// <summary>A JSON-RPC error for the id <paramref name="idJson"/> (as JSON text).</summary>
    private static JsonNode ErrorFor(string idJson, int code, string message) => new JsonObject
    {
        ["jsonrpc"] = "2.0",
        ["id"] = JsonNode.Parse(idJson),
        ["error"] = new JsonObject { ["code"] = code, ["message"] = message },
    };

    [Theory]
    [MemberData(nameof(Adapters))]
    public async Task Cancel_ServerAnswersAnyway_LateAnswerNotRecordedAndTheSessionGoesOn(string adapter)
    {
        using var server = new LifecycleServer();
        var sink = new MemorySink();
        await using (var client = await Adapter.StartAsync(adapter, server, Settings(sink)))
        {
            await client.OpenAsync();
            await client.SendAsync(Call(5, "hang"));
            await WaitForCallAsync(server, 5);
            // The server answers call 5 when it gets the cancellation: that answer must not be recorded as its response.
            await client.SendAsync(Cancel(5));
            await client.SendAsync(Call(6, "echo"));

            var answers = new List<JsonNode> { await client.ReceiveAsync() };
            while (answers.All(a => a["id"]?.ToJsonString() != "6"))
            {
                answers.Add(await client.ReceiveAsync());
            }
            Assert.Equal("ran echo", (string?)answers.Single(a => a["id"]?.ToJsonString() == "6")["result"]!["content"]![0]!["text"]);
            await client.CloseAsync();
        }

        Assert.Contains(sink.OfVersion(1), r => CallIdOf(r) == "n:5");
        Assert.DoesNotContain(sink.OfVersion(2), r => CallIdOf(r) == "n:5");
        Assert.Contains(sink.OfVersion(2), r => CallIdOf(r) == "n:6");
        Assert.All(server.Calls, c => Assert.True((bool)c["signed"]!));
    }

    [Theory]
    [MemberData(nameof(Adapters))]
    public async Task Refuse_ReceiptCannotBeStored_ClientGetsTheRefusalAndTheServerNothing(string adapter)
    {
        using var server = new LifecycleServer();
        await using var client = await Adapter.StartAsync(adapter, server, Settings(new FailingSink()));
        await client.OpenAsync();

        await client.SendAsync(Call(7, "echo"));

        var answer = await client.ReceiveAsync();
        Assert.Equal(7, (int)answer["id"]!);
        Assert.Equal(ToolCallRefusedException.JsonRpcErrorCode, (int)answer["error"]!["code"]!);
        Assert.Contains("audit log", (string?)answer["error"]!["message"], StringComparison.Ordinal);
        Assert.Empty(server.Calls);
    }

    [Theory]
    [MemberData(nameof(Adapters))]
    public async Task FailOpen_ReceiptCannotBeStored_CallGoesOutSignedAndIsAnswered(string adapter)
    {
        using var server = new LifecycleServer();
        var settings = Settings(new FailingSink());
        settings.FailureMode = RecordingFailureMode.FailOpen;
        await using var client = await Adapter.StartAsync(adapter, server, settings);
        await client.OpenAsync();

        await client.SendAsync(Call(8, "echo"));

        var answer = await client.ReceiveAsync();
        Assert.Equal(8, (int)answer["id"]!);
        Assert.Equal("ran echo", (string?)answer["result"]!["content"]![0]!["text"]);
        // Signed but not stored: it carries its receipt, so its server can still check it.
        var call = Assert.Single(server.Calls);
        Assert.True((bool)call["signed"]!);
    }

    [Theory]
    [MemberData(nameof(Adapters))]
    public async Task ConnectionLost_CallPending_AnsweredWithAnErrorAndNoResponseReceipt(string adapter)
    {
        using var server = new LifecycleServer();
        var sink = new MemorySink();
        var rest = new List<JsonNode>();
        await using (var client = await Adapter.StartAsync(adapter, server, Settings(sink)))
        {
            await client.OpenAsync();
            await client.SendAsync(Call(9, "exit"));
            rest.Add(await client.ReceiveAsync());
            rest.AddRange(await client.CloseAsync());
        }

        var answer = Assert.Single(rest, m => m["id"]?.ToJsonString() == "9");
        Assert.NotNull(answer["error"]);
        Assert.Null(answer["result"]);
        Assert.Contains(sink.OfVersion(1), r => CallIdOf(r) == "n:9");
        Assert.DoesNotContain(sink.OfVersion(2), r => CallIdOf(r) == "n:9");
    }

    [Theory]
    [MemberData(nameof(Adapters))]
    public async Task CoSignatureRequired_ServerSendsNone_ResponseWithheldAndItsReceiptKept(string adapter)
    {
        using var server = new LifecycleServer();
        var sink = new MemorySink();
        var settings = Settings(sink);
        settings.RequireCoSignature = true;
        // A policy, not a recording failure: fail-open does not let it through.
        settings.FailureMode = RecordingFailureMode.FailOpen;
        await using var client = await Adapter.StartAsync(adapter, server, settings);
        await client.OpenAsync();

        await client.SendAsync(Call(10, "echo"));

        var answer = await client.ReceiveAsync();
        Assert.Equal(10, (int)answer["id"]!);
        Assert.Equal(ToolCallRefusedException.JsonRpcErrorCode, (int)answer["error"]!["code"]!);
        Assert.Contains("co-signature", (string?)answer["error"]!["message"], StringComparison.Ordinal);
        Assert.Null(answer["result"]);
        Assert.Contains(sink.OfVersion(2), r => CallIdOf(r) == "n:10");
    }

    private static SignetOptions Settings(IReceiptSink sink) => new()
    {
        Signer = TestKeys.AgentSigner(),
        AuditLog = sink,
        Target = "mcp://lifecycle",
    };

    private static string? CallIdOf(Receipt receipt) => (string?)receipt.Json["action"]?["call_id"];

    /// <summary>Waits until the server has the call (so a cancellation after it is a cancellation of a running call).</summary>
    private static async Task WaitForCallAsync(LifecycleServer server, int id)
    {
        using var timeout = new CancellationTokenSource(TestTimeout.Value);
        while (!server.Calls.Any(c => c["id"]?.ToJsonString() == id.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>One adapter between the test (the client, speaking JSON-RPC) and the tool server.</summary>
    private abstract class Adapter : IAsyncDisposable
    {
        public static async Task<Adapter> StartAsync(string name, LifecycleServer server, SignetOptions settings)
        {
            var traffic = new LineProxyOptions();
            switch (name)
            {
                case "transport":
                    {
                        var (command, arguments) = server.Stdio;
                        var signing = new SigningTransport(
                            new StdioClientTransport(new StdioClientTransportOptions { Command = command, Arguments = arguments, Name = "lifecycle" }), settings);
                        return new TransportAdapter(await signing.ConnectAsync().WaitAsync(TestTimeout.Value));
                    }
                case "stdio":
                    {
                        var (command, arguments) = server.Stdio;
                        var recorder = new ToolCallRecorder(settings);
                        return new LineAdapter(pipes => StdioProxy.RunAsync(
                            new StdioProxyOptions { Command = command, Arguments = arguments, Traffic = traffic }, recorder, pipes.Input, pipes.Output));
                    }
                case "url":
                    {
                        var endpoint = await server.StartHttpAsync();
                        var recorder = new ToolCallRecorder(settings);
                        return new LineAdapter(pipes => HttpBackendProxy.RunAsync(
                            new HttpBackendProxyOptions { Endpoint = endpoint, Traffic = traffic }, recorder, pipes.Input, pipes.Output));
                    }
                default:
                    {
                        var backend = name == "bridge-stdio"
                            ? new BridgeBackendOptions { Name = "lifecycle", Command = server.Stdio.Command, Args = [.. server.Stdio.Arguments] }
                            : new BridgeBackendOptions { Name = "lifecycle", Url = (await server.StartHttpAsync()).ToString() };
                        // The bridge's policies travel in its options; the recorder factory makes each backend's recorder from them.
                        var options = new BridgeOptions { Listen = { "127.0.0.1:0" }, Token = Token, Backends = { backend }, Recording = settings.Clone() };
                        var bridge = BridgeServer.Create(options, target =>
                        {
                            var recording = target.Settings.Clone();
                            recording.Target = target.Target.ToString();
                            recording.Transport = "http";
                            return new ToolCallRecorder(recording);
                        }, NullLoggerFactory.Instance);
                        await bridge.StartAsync();
                        return new BridgeAdapter(bridge);
                    }
            }
        }

        public const string Token = "lifecycle-test-token-0123456789abcdef";

        /// <summary>Initializes the session.</summary>
        public async Task OpenAsync()
        {
            await SendAsync(Initialize);
            var answer = await ReceiveAsync();
            Assert.Equal(0, (int)answer["id"]!);
            Assert.NotNull(answer["result"]);
            await SendAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        }

        public abstract Task SendAsync(string json);

        /// <summary>The next message the client gets.</summary>
        public abstract Task<JsonNode> ReceiveAsync();

        /// <summary>Ends the connection from the client's side; returns what the client got after the last message received.</summary>
        public abstract Task<List<JsonNode>> CloseAsync();

        public abstract ValueTask DisposeAsync();
    }

    /// <summary>The stdio proxy and <c>proxy --url</c>: newline-delimited JSON-RPC on the proxy's stdin and stdout.</summary>
    private sealed class LineAdapter : Adapter
    {
        private readonly Pipe _clientToProxy = new();
        private readonly Pipe _proxyToClient = new();
        private readonly Task<int> _run;
        private bool _closed;

        public LineAdapter(Func<(Stream Input, Stream Output), Task<int>> run) =>
            _run = Task.Run(() => run((_clientToProxy.Reader.AsStream(), _proxyToClient.Writer.AsStream())));

        public override async Task SendAsync(string json) =>
            await _clientToProxy.Writer.WriteAsync(Encoding.UTF8.GetBytes(json + "\n")).AsTask().WaitAsync(TestTimeout.Value);

        public override async Task<JsonNode> ReceiveAsync() =>
            await ReadAsync() ?? throw new InvalidOperationException("the proxy's output ended before a complete line");

        public override async Task<List<JsonNode>> CloseAsync()
        {
            _closed = true;
            await _clientToProxy.Writer.CompleteAsync();
            await _run.WaitAsync(TestTimeout.Value);
            await _proxyToClient.Writer.CompleteAsync();
            var rest = new List<JsonNode>();
            while (await ReadAsync() is { } message)
            {
                rest.Add(message);
            }
            return rest;
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_closed)
            {
                await CloseAsync();
            }
        }

        private async Task<JsonNode?> ReadAsync()
        {
            var reader = _proxyToClient.Reader;
            while (true)
            {
                var result = await reader.ReadAsync().AsTask().WaitAsync(TestTimeout.Value);
                var buffer = result.Buffer;
                if (buffer.PositionOf((byte)'\n') is { } position)
                {
                    var line = buffer.Slice(0, position);
                    var node = JsonNode.Parse(line.ToArray())!;
                    reader.AdvanceTo(buffer.GetPosition(1, position));
                    return node;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return null;
                }
            }
        }
    }

    /// <summary>
    /// The library: messages go through <see cref="SigningTransport"/>'s connection as <c>McpClient</c> sends them. A
    /// refusal reaches the caller as an exception, shown here as the error it stands for; when the connection ends, the
    /// requests still awaited (not cancelled) are failed, as <c>McpClient</c> fails them.
    /// </summary>
    private sealed class TransportAdapter(ITransport transport) : Adapter
    {
        private static readonly JsonTypeInfo<JsonRpcMessage> MessageInfo =
            (JsonTypeInfo<JsonRpcMessage>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage));

        private readonly Queue<JsonNode> _local = new();
        private readonly HashSet<string> _awaited = [];
        private bool _closed;

        public override async Task SendAsync(string json)
        {
            var message = JsonSerializer.Deserialize(json, MessageInfo)!;
            if (message is JsonRpcRequest request)
            {
                _awaited.Add(request.Id.ToString());
            }
            else if (message is JsonRpcNotification { Method: NotificationMethods.CancelledNotification, Params: JsonObject p })
            {
                _awaited.Remove(p["requestId"]!.ToJsonString());
            }
            try
            {
                await transport.SendMessageAsync(message).WaitAsync(TestTimeout.Value);
            }
            catch (McpProtocolException e)
            {
                var id = ((JsonRpcRequest)message).Id.ToString();
                _awaited.Remove(id);
                _local.Enqueue(ErrorFor(id, (int)e.ErrorCode, e.Message));
            }
        }

        public override async Task<JsonNode> ReceiveAsync()
        {
            if (_local.TryDequeue(out var local))
            {
                return local;
            }
            try
            {
                if (await transport.MessageReader.WaitToReadAsync().AsTask().WaitAsync(TestTimeout.Value)
                    && transport.MessageReader.TryRead(out var message))
                {
                    return Received(message);
                }
            }
            catch (ClientTransportClosedException)
            {
                // The server went away: the reader completes with this, and the client fails what it awaits.
            }
            // The connection ended: the first request still awaited is failed, as McpClient fails it.
            return Failed() ?? throw new InvalidOperationException("the connection ended with nothing awaited");
        }

        public override async Task<List<JsonNode>> CloseAsync()
        {
            _closed = true;
            await transport.DisposeAsync();
            var rest = new List<JsonNode>(_local);
            while (transport.MessageReader.TryRead(out var message))
            {
                rest.Add(Received(message));
            }
            while (Failed() is { } failed)
            {
                rest.Add(failed);
            }
            return rest;
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_closed)
            {
                await transport.DisposeAsync();
            }
        }

        private JsonNode Received(JsonRpcMessage message)
        {
            if (message is JsonRpcMessageWithId { Id: var id })
            {
                _awaited.Remove(id.ToString());
            }
            return JsonSerializer.SerializeToNode(message, MessageInfo)!;
        }

        private JsonNode? Failed()
        {
            if (_awaited.FirstOrDefault() is not { } id)
            {
                return null;
            }
            _awaited.Remove(id);
            return ErrorFor(id, -32000, "the transport closed");
        }
    }

    /// <summary>
    /// The bridge: each message is a POST to its endpoint (with the session id it gave), whose answers (JSON or SSE)
    /// reach the client as they come. A POST that fails at the HTTP level is the error of the request it carried.
    /// </summary>
    private sealed class BridgeAdapter : Adapter
    {
        private readonly BridgeServer _bridge;
        private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
        private readonly Channel<JsonNode> _received = Channel.CreateUnbounded<JsonNode>();
        private readonly List<Task> _posts = [];
        private readonly CancellationTokenSource _abort = new();
        private string? _sessionId;
        private bool _closed;

        public BridgeAdapter(BridgeServer bridge) => _bridge = bridge;

        public override Task SendAsync(string json)
        {
            // Sent as a client sends it, without waiting for its answer (a call may never be answered); the tests order
            // what matters by what the server and the client have seen.
            _posts.Add(PostAsync(json));
            return Task.CompletedTask;
        }

        public override async Task<JsonNode> ReceiveAsync() =>
            await _received.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout.Value);

        public override async Task<List<JsonNode>> CloseAsync()
        {
            _closed = true;
            // The client goes away: POSTs still open are abandoned, then the bridge stops (ending its sessions).
            await _abort.CancelAsync();
            await Task.WhenAll(_posts).WaitAsync(TestTimeout.Value);
            await _bridge.DisposeAsync();
            _received.Writer.TryComplete();
            var rest = new List<JsonNode>();
            await foreach (var message in _received.Reader.ReadAllAsync())
            {
                rest.Add(message);
            }
            return rest;
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_closed)
            {
                await CloseAsync();
            }
            _http.Dispose();
            _abort.Dispose();
        }

        private async Task PostAsync(string json)
        {
            var id = JsonNode.Parse(json)!["id"]?.ToJsonString();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, _bridge.Endpoints[0].Url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
                request.Headers.Accept.ParseAdd("application/json");
                request.Headers.Accept.ParseAdd("text/event-stream");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
                if (_sessionId is not null)
                {
                    request.Headers.Add("Mcp-Session-Id", _sessionId);
                    request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
                }
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _abort.Token);
                if (response.Headers.TryGetValues("Mcp-Session-Id", out var session))
                {
                    _sessionId ??= session.Single();
                }
                var body = await response.Content.ReadAsStringAsync(_abort.Token);
                if (!response.IsSuccessStatusCode)
                {
                    if (id is not null)
                    {
                        _received.Writer.TryWrite(ErrorFor(id, -32000, $"HTTP {(int)response.StatusCode}: {body}"));
                    }
                    return;
                }
                var isSse = response.Content.Headers.ContentType?.MediaType == "text/event-stream";
                var payloads = isSse
                    ? body.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].Trim())
                    : body.Length > 0 ? [body] : [];
                foreach (var payload in payloads)
                {
                    switch (JsonNode.Parse(payload))
                    {
                        case JsonArray batch:
                            foreach (var element in batch)
                            {
                                _received.Writer.TryWrite(element!.DeepClone());
                            }
                            break;
                        case { } single:
                            _received.Writer.TryWrite(single);
                            break;
                    }
                }
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                // The client went away before the answer came.
            }
        }
    }
}
