using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Signet.Audit;

namespace Signet.Bridge.Tests;

/// <summary>
/// Every shape a tools/call can take, through the bridge to real backends that record each message they receive: no
/// unsigned call reaches a backend, each shape gets its documented answer and receipt, and the session still serves a
/// valid call afterwards.
/// </summary>
public sealed class ToolCallShapeTests : IDisposable
{
    private const string Big = "BIG";
    private readonly string home = Directory.CreateTempSubdirectory("signet-bridge-shapes-").FullName;

    public void Dispose() => Directory.Delete(home, recursive: true);

    /// <summary>What the bridge must do with a shape.</summary>
    private enum Answer
    {
        Result,
        Refused,
        Dropped,
        ParseError,
        TooLarge,
        BadHost,
    }

    private enum Receipts
    {
        Signed,
        Rejected,
        None,
    }

    private sealed record Shape(string Body, Answer Answer, Receipts Receipts, string? SentId = null, string? CallId = null);

    private static readonly Dictionary<string, Shape> Shapes = new()
    {
        ["valid"] = new("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":1}}}""", Answer.Result, Receipts.Signed, "1", "n:1"),
        ["method-escaped"] = new("""{"jsonrpc":"2.0","id":"e","method":"tools\/call","params":{"name":"echo"}}""", Answer.Result, Receipts.Signed, "\"e\"", "s:e"),
        ["id-1.0"] = new("""{"jsonrpc":"2.0","id":1.0,"method":"tools/call","params":{"name":"echo"}}""", Answer.Result, Receipts.Signed, "1.0", "n:1.0"),
        ["id-minus-0"] = new("""{"jsonrpc":"2.0","id":-0,"method":"tools/call","params":{"name":"echo"}}""", Answer.Result, Receipts.Signed, "-0", "n:-0"),
        ["id-2^53+1"] = new("""{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/call","params":{"name":"echo"}}""", Answer.Result, Receipts.Signed, "9007199254740993", "n:9007199254740993"),
        ["id-30-digits"] = new("""{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"tools/call","params":{"name":"echo"}}""", Answer.Result, Receipts.Signed, "123456789012345678901234567890", "n:123456789012345678901234567890"),
        ["id-null"] = new("""{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"echo"}}""", Answer.Refused, Receipts.Rejected, "null"),
        ["id-true"] = new("""{"jsonrpc":"2.0","id":true,"method":"tools/call","params":{"name":"echo"}}""", Answer.Refused, Receipts.Rejected, "true"),
        ["id-false"] = new("""{"jsonrpc":"2.0","id":false,"method":"tools/call","params":{"name":"echo"}}""", Answer.Refused, Receipts.Rejected, "false"),
        ["id-object"] = new("""{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{"name":"echo"}}""", Answer.Refused, Receipts.Rejected, "{}"),
        ["id-array"] = new("""{"jsonrpc":"2.0","id":[],"method":"tools/call","params":{"name":"echo"}}""", Answer.Refused, Receipts.Rejected, "[]"),
        ["no-id"] = new("""{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo"}}""", Answer.Dropped, Receipts.Rejected),
        ["no-id-escaped"] = new("""{"jsonrpc":"2.0","method":"tools\/call","params":{"name":"echo"}}""", Answer.Dropped, Receipts.Rejected),
        ["params-array"] = new("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":["echo"]}""", Answer.Refused, Receipts.None, "2"),
        ["params-string"] = new("""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":"echo"}""", Answer.Refused, Receipts.None, "3"),
        ["params-missing"] = new("""{"jsonrpc":"2.0","id":4,"method":"tools/call"}""", Answer.Refused, Receipts.None, "4"),
        ["name-missing"] = new("""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"arguments":{}}}""", Answer.Refused, Receipts.None, "5"),
        ["name-number"] = new("""{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":7}}""", Answer.Refused, Receipts.None, "6"),
        ["duplicate-method"] = new("""{"jsonrpc":"2.0","id":7,"method":"tools/list","method":"tools/call","params":{"name":"echo"}}""", Answer.Refused, Receipts.None, "7"),
        ["utf8-in-id"] = new("""{"jsonrpc":"2.0","id":"z<FF>","method":"tools/call","params":{"name":"echo"}}""", Answer.ParseError, Receipts.None),
        ["utf8-in-method"] = new("""{"jsonrpc":"2.0","id":8,"method":"tools/call<FF>","params":{"name":"echo"}}""", Answer.ParseError, Receipts.None),
        ["utf8-in-params"] = new("""{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"s":"<FF>"}}}""", Answer.ParseError, Receipts.None),
        ["oversized"] = new("""{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"echo","arguments":{"s":"BIG"}}}""", Answer.TooLarge, Receipts.None, "41"),
        ["empty-host"] = new("""{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo"}}""", Answer.BadHost, Receipts.None),
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var shape in Shapes.Keys)
        {
            foreach (var backend in new[] { "stdio", "stdio-exact-ids", "http" })
            {
                data.Add(shape, backend);
            }
        }
        return data;
    }

    private static byte[] Bytes(string body)
    {
        body = body.Replace(Big, new string('x', 4096), StringComparison.Ordinal);
        var parts = body.Split("<FF>");
        var bytes = new List<byte>();
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0)
            {
                bytes.Add(0xFF);
            }
            bytes.AddRange(Encoding.UTF8.GetBytes(parts[i]));
        }
        return bytes.ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Post_EveryToolCallShape_SignedOrRefusedNeverForwardedUnsigned(string name, string backendKind)
    {
        var shape = Shapes[name];
        using var backends = new RecordingBackends();
        var backend = backendKind == "http" ? await backends.StartHttpAsync() : backends.Stdio(exactIds: backendKind == "stdio-exact-ids");
        var logs = new CapturingLoggerFactory();
        List<JsonObject> receipts;
        await using (var bridge = await RawBridge.StartAsync(home, backend, logs, o => o.Limits.MaxRequestBodyBytes = 2048))
        {
            await bridge.InitializeAsync();
            var body = Bytes(shape.Body);
            if (shape.Answer == Answer.BadHost)
            {
                var (status, response) = await bridge.SendRawAsync(
                    $"POST {bridge.Url.AbsolutePath} HTTP/1.1\r\nHost: \r\nContent-Type: application/json\r\nAccept: application/json\r\nAuthorization: Bearer {BridgeHarness.Token}\r\nMcp-Session-Id: {bridge.SessionId}\r\n", body);
                Assert.Equal(400, status);
                Assert.Contains("Host", response, StringComparison.Ordinal);
            }
            else
            {
                var (status, response, _) = await bridge.PostAsync(body);
                var answer = response.Length > 0 ? JsonNode.Parse(response) : null;
                switch (shape.Answer)
                {
                    case Answer.Result:
                        Assert.Equal(HttpStatusCode.OK, status);
                        Assert.NotNull(answer!["result"]);
                        Assert.Equal(IdValue(shape.SentId!), IdValue(answer["id"]!.ToJsonString()));
                        break;
                    case Answer.Refused:
                        Assert.Equal(HttpStatusCode.OK, status);
                        Assert.Equal(-32099, (int)answer!["error"]!["code"]!);
                        Assert.Equal(shape.SentId, answer["id"]?.ToJsonString() ?? "null");
                        Assert.DoesNotContain("..", (string)answer["error"]!["message"]!, StringComparison.Ordinal);
                        break;
                    case Answer.Dropped:
                        Assert.Equal(HttpStatusCode.Accepted, status);
                        Assert.Equal("", response);
                        break;
                    case Answer.ParseError:
                        Assert.Equal(HttpStatusCode.BadRequest, status);
                        Assert.Equal(-32700, (int)answer!["error"]!["code"]!);
                        Assert.Contains("byte offset " + Array.IndexOf(body, (byte)0xFF).ToString(CultureInfo.InvariantCulture), (string)answer["error"]!["message"]!, StringComparison.Ordinal);
                        break;
                    case Answer.TooLarge:
                        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
                        Assert.Equal(shape.SentId, answer!["id"]!.ToJsonString());
                        break;
                }
            }

            // The session still answers a valid call.
            var (afterStatus, after, _) = await bridge.PostAsync("""{"jsonrpc":"2.0","id":"after","method":"tools/call","params":{"name":"echo","arguments":{}}}""");
            Assert.Equal(HttpStatusCode.OK, afterStatus);
            Assert.Equal("ran echo", (string)JsonNode.Parse(after)!["result"]!["content"]![0]!["text"]!);
            Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("nhandled", StringComparison.Ordinal) || e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
            // Nothing is left waiting: a call whose answer was never matched would get a second, spurious answer when the session ends.
            Assert.All(bridge.Server.Sessions.Sessions, session => Assert.True(session.IsQuiet));
        }
        RawBridge.AssertEveryCallSigned(backends.Received());

        receipts = AuditQuery.Read(SignetHome.AuditDirectory(home)).Select(e => e.Receipt).ToList();
        var verified = AuditVerifier.Verify(SignetHome.AuditDirectory(home), new AuditVerifyOptions { VerifySignatures = true });
        Assert.True(verified.IsValid, verified.Break?.Message);
        var after2 = receipts.TakeLast(2).ToList();
        Assert.All(after2, r => Assert.Equal("s:after", (string)r["action"]!["call_id"]!));
        var own = receipts.SkipLast(2).ToList();
        switch (shape.Receipts)
        {
            case Receipts.Signed:
                Assert.Equal([1, 2], own.Select(r => (int)r["v"]!));
                Assert.All(own, r => Assert.Equal(shape.CallId, (string)r["action"]!["call_id"]!));
                Assert.Equal("executed", (string)own[1]["response"]!["outcome"]!["status"]!);
                break;
            case Receipts.Rejected:
                var rejected = Assert.Single(own);
                Assert.Equal(2, (int)rejected["v"]!);
                Assert.Equal("echo", (string)rejected["action"]!["tool"]!);
                Assert.Equal("rejected", (string)rejected["response"]!["outcome"]!["status"]!);
                Assert.Contains("the tools/call cannot be signed", (string)rejected["response"]!["outcome"]!["reason"]!, StringComparison.Ordinal);
                break;
            case Receipts.None:
                Assert.Empty(own);
                break;
        }
    }

    [Theory]
    [InlineData("stdio")]
    [InlineData("http")]
    public async Task Post_BatchWithAnUnsignableCall_SignedOneForwardedOtherRefusedInTheSameAnswer(string backendKind)
    {
        using var backends = new RecordingBackends();
        var backend = backendKind == "http" ? await backends.StartHttpAsync() : backends.Stdio();
        await using (var bridge = await RawBridge.StartAsync(home, backend, new CapturingLoggerFactory()))
        {
            await bridge.InitializeAsync();
            var (status, body, _) = await bridge.PostAsync(
                """[{"jsonrpc":"2.0","id":"b1","method":"tools/call","params":{"name":"echo"}},{"jsonrpc":"2.0","id":true,"method":"tools/call","params":{"name":"echo"}},{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo"}}]""");
            Assert.Equal(HttpStatusCode.OK, status);
            var answers = JsonNode.Parse(body)!.AsArray();
            Assert.Equal(2, answers.Count);
            Assert.Equal("ran echo", (string)answers.Single(a => a!["id"]!.ToJsonString() == "\"b1\"")!["result"]!["content"]![0]!["text"]!);
            Assert.Equal(-32099, (int)answers.Single(a => a!["id"]!.ToJsonString() == "true")!["error"]!["code"]!);
        }
        RawBridge.AssertEveryCallSigned(backends.Received());
        Assert.Single(backends.Received(), l => Encoding.UTF8.GetString(l).Contains("tools/call", StringComparison.Ordinal));
        var receipts = AuditQuery.Read(SignetHome.AuditDirectory(home)).Select(e => e.Receipt).ToList();
        Assert.Equal(2, receipts.Count(r => (string?)r["response"]?["outcome"]?["status"] == "rejected"));
        Assert.Equal(2, receipts.Count(r => (string?)r["action"]!["call_id"] == "s:b1"));
    }

    /// <summary>An id as a comparable value: numbers by their value (a backend may echo 1.0 as 1), strings as they are.</summary>
    private static string IdValue(string rawId) =>
        rawId.StartsWith('"') ? rawId : double.Parse(rawId, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture).Replace("-0", "0", StringComparison.Ordinal);
}
