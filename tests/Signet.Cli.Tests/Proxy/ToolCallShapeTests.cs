using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Mcp.Client;
using Signet.Cli.Proxy;
using Signet.Mcp;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;
using Signet.Mcp.Recording;

namespace Signet.Cli.Tests.Proxy;

/// <summary>
/// Every shape of message the docs' table lists, through every mode (stdio proxy, proxy --url, SigningTransport),
/// against a real server process that runs whatever it can parse and records what it got: no unsigned tools/call may
/// reach it, each shape gets its answer, and the session still answers a valid call afterwards.
/// </summary>
public sealed class ToolCallShapeTests
{
    private const int LineLimit = 2048;

    public enum Expect
    {
        /// <summary>Forwarded with a receipt; the answer comes back and gets its v2 receipt.</summary>
        Signed,

        /// <summary>Not forwarded; a -32099 error with the id as sent.</summary>
        Refused,

        /// <summary>Not forwarded, no answer (a notification); a rejected-outcome receipt is recorded.</summary>
        Dropped,

        /// <summary>Not a call: forwarded as it is, and the server's answer comes back.</summary>
        Answered,

        /// <summary>Not a call and not a request: forwarded as it is; nothing comes back.</summary>
        Silent,

        /// <summary>Answered with a JSON-RPC parse error (-32700): nothing unreadable can be posted over HTTP.</summary>
        ParseError,

        /// <summary>The mode cannot express the message at all (the SDK cannot read it into a message object).</summary>
        NotRepresentable,
    }

    /// <summary>A shape: the client's line, the id it carries as raw JSON, the call id signed for it, and what each mode does.</summary>
    public sealed record Shape(string Line, string? RawId, string? CallId, Expect Stdio, Expect Url, Expect Transport, string? TransportCallId = null)
    {
        /// <summary>The call id signed in a mode: the SDK reads the id before SigningTransport sees it (-0 becomes 0).</summary>
        public string? CallIdIn(string mode) => mode == "transport" ? TransportCallId ?? CallId : CallId;

        public byte[] Bytes => Encode(Line);

        public Expect In(string mode) => mode switch { "stdio" => Stdio, "url" => Url, _ => Transport };
    }

    private static string Call(string id, string parameters, string method = "tools/call") =>
        $$"""{"jsonrpc":"2.0",{{(id.Length == 0 ? "" : $"\"id\":{id},")}}"method":"{{method}}","params":{{parameters}}}""";

    private const string Echo = """{"name":"echo","arguments":{"a":1}}""";

    /// <summary>The shapes of docs/proxy.md's table; "&lt;FF&gt;" stands for the byte 0xFF (invalid UTF-8).</summary>
    public static readonly IReadOnlyDictionary<string, Shape> Shapes = new Dictionary<string, Shape>
    {
        ["valid call"] = new(Call("1", Echo), "1", "n:1", Expect.Signed, Expect.Signed, Expect.Signed),
        ["id null"] = new(Call("null", Echo), "null", null, Expect.Refused, Expect.Refused, Expect.NotRepresentable),
        ["id true"] = new(Call("true", Echo), "true", null, Expect.Refused, Expect.Refused, Expect.NotRepresentable),
        ["id false"] = new(Call("false", Echo), "false", null, Expect.Refused, Expect.Refused, Expect.NotRepresentable),
        ["id object"] = new(Call("{}", Echo), "{}", null, Expect.Refused, Expect.Refused, Expect.NotRepresentable),
        ["id array"] = new(Call("[]", Echo), "[]", null, Expect.Refused, Expect.Refused, Expect.NotRepresentable),
        ["no id"] = new(Call("", Echo), null, null, Expect.Dropped, Expect.Dropped, Expect.Dropped),
        ["params array"] = new(Call("2", "[1]"), "2", null, Expect.Refused, Expect.Refused, Expect.Refused),
        ["params string"] = new(Call("2", "\"echo\""), "2", null, Expect.Refused, Expect.Refused, Expect.Refused),
        ["params missing"] = new("""{"jsonrpc":"2.0","id":2,"method":"tools/call"}""", "2", null, Expect.Refused, Expect.Refused, Expect.Refused),
        ["name missing"] = new(Call("2", """{"arguments":{}}"""), "2", null, Expect.Refused, Expect.Refused, Expect.Refused),
        ["name not a string"] = new(Call("2", """{"name":5}"""), "2", null, Expect.Refused, Expect.Refused, Expect.Refused),
        ["invalid UTF-8 in id"] = new(Call("\"z<FF>\"", Echo), "\"z<FF>\"", null, Expect.Refused, Expect.Refused, Expect.NotRepresentable),
        ["invalid UTF-8 in params"] = new(Call("3", """{"name":"echo","arguments":{"s":"<FF>"}}"""), "3", "n:3", Expect.Refused, Expect.Refused, Expect.Signed),
        ["invalid UTF-8 in method, escape on the line"] = new("""{"jsonrpc":"2.0","id":12,"method":"ping<FF>","params":{"s":"\n"}}""", "12", null, Expect.Answered, Expect.ParseError, Expect.NotRepresentable),
        ["invalid UTF-8 in requestId"] = new("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"z<FF>"}}""", null, null, Expect.Silent, Expect.ParseError, Expect.Silent),
        ["escaped method"] = new(Call("4", Echo, "tools\\/call"), "4", "n:4", Expect.Signed, Expect.Signed, Expect.Signed),
        ["escaped method, invalid UTF-8 in params"] = new(Call("5", """{"name":"echo","arguments":{"s":"<FF>"}}""", "tools\\/call"), "5", "n:5", Expect.Refused, Expect.Refused, Expect.Signed),
        ["id 1.0"] = new(Call("1.0", Echo), "1.0", "n:1.0", Expect.Signed, Expect.Refused, Expect.NotRepresentable),
        ["id -0"] = new(Call("-0", Echo), "-0", "n:-0", Expect.Signed, Expect.Signed, Expect.Signed, TransportCallId: "n:0"),
        ["id 2^53+1"] = new(Call("9007199254740993", Echo), "9007199254740993", "n:9007199254740993", Expect.Signed, Expect.Signed, Expect.Signed),
        ["id of 30 digits"] = new(Call("123456789012345678901234567890", Echo), "123456789012345678901234567890", "n:123456789012345678901234567890", Expect.Signed, Expect.Refused, Expect.NotRepresentable),
        ["oversized line"] = new(Call("77", "{\"name\":\"echo\",\"arguments\":{\"pad\":\"" + new string('x', 3000) + "\"}}"), "77", "n:77", Expect.Refused, Expect.Refused, Expect.Signed),
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var shape in Shapes.Keys)
        {
            foreach (var mode in new[] { "stdio", "url", "transport" })
            {
                data.Add(shape, mode);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Shape_ThroughEachMode_SignedOrRefusedNeverUnsignedAndSessionStillAnswers(string shapeName, string modeName)
    {
        var shape = Shapes[shapeName];
        var expected = shape.In(modeName);
        using var server = new RecordingServer();
        var sink = new MemorySink();
        await using var mode = await Mode.StartAsync(modeName, server, sink);

        Assert.Equal(expected != Expect.NotRepresentable, await mode.SendAsync(shape.Bytes));
        switch (expected)
        {
            case Expect.Signed:
                {
                    var line = await mode.ReceiveAsync();
                    Assert.True(JsonNode.Parse(line)!["result"] is not null, Encoding.UTF8.GetString(line));
                    Assert.Contains(sink.OfVersion(1), r => CallIdOf(r) == shape.CallIdIn(modeName));
                    Assert.Contains(sink.OfVersion(2), r => CallIdOf(r) == shape.CallIdIn(modeName));
                    break;
                }
            case Expect.Refused:
                {
                    var line = await mode.ReceiveAsync();
                    Assert.True(Contains(line, Encode($"\"id\":{shape.RawId},")), $"the error does not echo the id {shape.RawId}: {Encoding.UTF8.GetString(line)}");
                    Assert.True(Contains(line, "\"code\":-32099"u8.ToArray()), Encoding.UTF8.GetString(line));
                    Assert.Empty(sink.OfVersion(1));
                    break;
                }
            case Expect.Answered:
                Assert.True(Contains(await mode.ReceiveAsync(), "\"result\""u8.ToArray()));
                break;
            case Expect.ParseError:
                Assert.True(Contains(await mode.ReceiveAsync(), "-32700"u8.ToArray()));
                break;
        }

        // The session goes on: a valid call is still signed and answered, and is the next thing the client gets.
        Assert.True(await mode.SendAsync(Encode(Call("\"after\"", Echo))));
        var after = JsonNode.Parse(await mode.ReceiveAsync())!;
        Assert.Equal("after", (string?)after["id"]);
        Assert.NotNull(after["result"]);
        var rest = await mode.CloseAsync();

        Assert.DoesNotContain(rest, l => Contains(l, "-32099"u8.ToArray()));
        Assert.DoesNotContain(server.Received, r => (string?)r["method"] == "tools/call" && r["signed"]?.GetValue<bool>() != true);
        Assert.Contains(server.Received, r => (string?)r["method"] == "tools/call" && r["signed"]?.GetValue<bool>() == true);
        if (expected == Expect.Dropped)
        {
            var rejected = Assert.Single(sink.OfVersion(2), r => (string?)r.Json["response"]?["outcome"]?["status"] == "rejected");
            Assert.Contains("no id", (string?)rejected.Json["response"]!["outcome"]!["reason"], StringComparison.Ordinal);
            Assert.Equal("echo", (string?)rejected.Json["action"]!["tool"]);
        }
    }

    private static string? CallIdOf(Signet.Receipts.Receipt receipt) => (string?)receipt.Json["action"]?["call_id"];

    private static byte[] Encode(string text)
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(text.Replace("<FF>", "\u0001", StringComparison.Ordinal)));
        for (var i = 0; i < bytes.Count; i++)
        {
            if (bytes[i] == 1)
            {
                bytes[i] = 0xFF;
            }
        }
        bytes.Add((byte)'\n');
        return [.. bytes];
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        var n = needle.Length > 0 && needle[^1] == (byte)'\n' ? needle[..^1] : needle;
        return haystack.AsSpan().IndexOf(n) >= 0;
    }

    /// <summary>One mode between the test (the client) and the recording server.</summary>
    private abstract class Mode : IAsyncDisposable
    {
        public static async Task<Mode> StartAsync(string name, RecordingServer server, MemorySink sink)
        {
            var recorder = new ToolCallRecorder(new SignetOptions { Signer = TestKeys.AgentSigner(), AuditLog = sink, Target = "mcp://recording" });
            var traffic = new LineProxyOptions { MaxLineBytes = LineLimit };
            switch (name)
            {
                case "stdio":
                    {
                        var (command, arguments) = server.Stdio;
                        return new PipeMode(pipes => StdioProxy.RunAsync(
                            new StdioProxyOptions { Command = command, Arguments = arguments, Traffic = traffic }, recorder, pipes.Input, pipes.Output), null);
                    }
                case "url":
                    {
                        var (process, endpoint) = await server.StartHttpAsync();
                        return new PipeMode(pipes => HttpBackendProxy.RunAsync(
                            new HttpBackendProxyOptions { Endpoint = endpoint, Traffic = traffic }, recorder, pipes.Input, pipes.Output), process);
                    }
                default:
                    {
                        var (command, arguments) = server.Stdio;
                        var signing = new SigningTransport(
                            new StdioClientTransport(new StdioClientTransportOptions { Command = command, Arguments = arguments, Name = "recording" }),
                            new SignetOptions { Key = TestKeys.Agent, SignerName = "test-agent", AuditLog = sink, Target = "mcp://recording" });
                        return new TransportMode(await signing.ConnectAsync().WaitAsync(PipeHarness.Timeout));
                    }
            }
        }

        /// <summary>Sends a client line; false when the mode cannot express it.</summary>
        public abstract Task<bool> SendAsync(byte[] line);

        /// <summary>The next line the client gets.</summary>
        public abstract Task<byte[]> ReceiveAsync();

        /// <summary>Ends the session; returns the lines the client got after the last one received.</summary>
        public abstract Task<List<byte[]>> CloseAsync();

        public abstract ValueTask DisposeAsync();
    }

    private sealed class PipeMode : Mode
    {
        private readonly Pipe _clientToProxy = new();
        private readonly Pipe _proxyToClient = new();
        private readonly Task<int> _run;
        private readonly System.Diagnostics.Process? _server;

        public PipeMode(Func<(Stream Input, Stream Output), Task<int>> run, System.Diagnostics.Process? server)
        {
            _server = server;
            _run = Task.Run(() => run((_clientToProxy.Reader.AsStream(), _proxyToClient.Writer.AsStream())));
        }

        public override async Task<bool> SendAsync(byte[] line)
        {
            await _clientToProxy.Writer.WriteAsync(line).AsTask().WaitAsync(PipeHarness.Timeout);
            return true;
        }

        public override async Task<byte[]> ReceiveAsync() =>
            await ReadLineAsync() ?? throw new InvalidOperationException("the proxy's output ended before a complete line");

        public override async Task<List<byte[]>> CloseAsync()
        {
            await _clientToProxy.Writer.CompleteAsync();
            await _run.WaitAsync(PipeHarness.Timeout);
            await _proxyToClient.Writer.CompleteAsync();
            var rest = new List<byte[]>();
            while (await ReadLineAsync() is { } line)
            {
                rest.Add(line);
            }
            return rest;
        }

        public override async ValueTask DisposeAsync()
        {
            await _clientToProxy.Writer.CompleteAsync();
            await _run.WaitAsync(PipeHarness.Timeout);
            if (_server is not null)
            {
                _server.Kill(entireProcessTree: true);
                await _server.WaitForExitAsync();
                _server.Dispose();
            }
        }

        private async Task<byte[]?> ReadLineAsync()
        {
            var reader = _proxyToClient.Reader;
            while (true)
            {
                var result = await reader.ReadAsync().AsTask().WaitAsync(PipeHarness.Timeout);
                var buffer = result.Buffer;
                if (buffer.PositionOf((byte)'\n') is { } position)
                {
                    var end = buffer.GetPosition(1, position);
                    var line = buffer.Slice(0, end).ToArray();
                    reader.AdvanceTo(end);
                    return line;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return null;
                }
            }
        }
    }

    private sealed class TransportMode(ITransport transport) : Mode
    {
        private static readonly JsonTypeInfo<JsonRpcMessage> MessageInfo =
            (JsonTypeInfo<JsonRpcMessage>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage));

        private readonly Queue<byte[]> _local = new();

        public override async Task<bool> SendAsync(byte[] line)
        {
            JsonRpcMessage message;
            try
            {
                message = JsonSerializer.Deserialize(line, MessageInfo) ?? throw new JsonException("null");
            }
            catch (Exception)
            {
                // Whatever the SDK throws: no caller of the library can send this message.
                return false;
            }
            try
            {
                await transport.SendMessageAsync(message).WaitAsync(PipeHarness.Timeout);
            }
            catch (McpProtocolException e)
            {
                // The library's refusal reaches the caller as an exception; shown here as the error line it stands for.
                var id = ((JsonRpcRequest)message).Id;
                _local.Enqueue(Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":{id.ToString()},\"error\":{{\"code\":{(int)e.ErrorCode},\"message\":{JsonValue.Create(e.Message)!.ToJsonString()}}}}}\n"));
            }
            return true;
        }

        public override async Task<byte[]> ReceiveAsync()
        {
            if (_local.TryDequeue(out var line))
            {
                return line;
            }
            var message = await transport.MessageReader.ReadAsync().AsTask().WaitAsync(PipeHarness.Timeout);
            return [.. JsonSerializer.SerializeToUtf8Bytes(message, MessageInfo), (byte)'\n'];
        }

        public override async Task<List<byte[]>> CloseAsync()
        {
            await transport.DisposeAsync();
            var rest = new List<byte[]>(_local);
            while (transport.MessageReader.TryRead(out var message))
            {
                rest.Add(JsonSerializer.SerializeToUtf8Bytes(message, MessageInfo));
            }
            return rest;
        }

        public override ValueTask DisposeAsync() => transport.DisposeAsync();
    }
}
