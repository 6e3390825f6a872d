using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Signet.Keys;
using Signet.Mcp.Client;
using Signet.Mcp.Recording;
using Signet.Mcp.Server;
using Signet.Receipts;

namespace Signet.Mcp.Tests.Client;

/// <summary>Our client with a SigningTransport against a real in-process C# MCP server running both Signet filters.</summary>
public sealed class SigningTransportBilateralTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const string ServerTarget = "mcp://in-process";

    private static InProcessServer Server(RequestVerificationMode mode = RequestVerificationMode.Require, RequestVerifierOptions? verifier = null, bool coSign = true) =>
        InProcessServer.Start(o =>
        {
            o.Filters.Request.CallToolFilters.Add(SignetServerFilters.VerifyReceipts(new RequestVerifier(verifier ?? new RequestVerifierOptions
            {
                TrustedAgentKeys = [TestKeys.Agent.PublicKey],
                ExpectedTarget = ServerTarget,
            }), mode));
            if (coSign)
            {
                o.Filters.Request.CallToolFilters.Add(SignetServerFilters.CoSignResponses(TestKeys.ServerSigner()));
            }
        });

    private static SignetOptions ClientOptions(MemorySink sink, SigningKey? key = null, bool requireCoSignature = true,
        string target = ServerTarget, TimeProvider? time = null, ReceiptMetaKeyMode mode = ReceiptMetaKeyMode.Standard) => new()
    {
        Key = key ?? TestKeys.Agent,
        SignerName = "test-agent",
        SignerOwner = "tests",
        AuditLog = sink,
        Target = target,
        TrustedServerKeys = [TestKeys.Server.PublicKey],
        RequireCoSignature = requireCoSignature,
        TimeProvider = time,
        MetaKeyMode = mode,
    };

    private static void AssertAllVerify(MemorySink sink)
    {
        foreach (var receipt in sink.Receipts)
        {
            var trusted = receipt.Version == 3 ? TestKeys.Server.PublicKey : TestKeys.Agent.PublicKey;
            var check = ReceiptVerifier.Verify(receipt, new ReceiptVerificationOptions { TrustedKeys = [trusted], TrustedAgentKeys = [TestKeys.Agent.PublicKey] });
            Assert.True(check.IsValid, $"v{receipt.Version}: {check}");
        }
    }

    [Theory]
    [InlineData(null)] // 2026-07-28, negotiated with server/discover
    [InlineData("2025-11-25")] // initialize era
    public async Task CallToolAsync_BothFilters_V1V2V3StoredAndVerify(string? protocolVersion)
    {
        await using var server = Server();
        var sink = new MemorySink();
        await using var client = await McpClient.CreateAsync(new SigningTransport(server.ClientTransport(), ClientOptions(sink)), ClientExtensions.Protocol(protocolVersion)).WaitAsync(Timeout);

        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hello <&> ü" }).AsTask().WaitAsync(Timeout);

        Assert.Equal(protocolVersion ?? "2026-07-28", client.NegotiatedProtocolVersion);
        Assert.NotEqual(true, result.IsError);
        Assert.Equal("Echo: hello <&> ü", result.Text());
        Assert.Equal([1, 2, 3], sink.Receipts.Select(r => r.Version));
        AssertAllVerify(sink);
        var (v1, v3) = (sink.OfVersion(1).Single(), sink.OfVersion(3).Single());
        Assert.Equal(v1.Id, v3.Json["agent_receipt"]!["id"]!.GetValue<string>());
        Assert.Equal("executed", v3.Json["response"]!["outcome"]!["status"]!.GetValue<string>());
        Assert.Equal("{\"message\":\"hello <&> ü\"}", v1.Action!["params"]!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        // The response reaches the caller as the server sent it, co-signature included.
        Assert.Equal(v3.Id, result.Meta![SignetMetaKeys.CoSignature]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task CallToolAsync_ReferenceKeys_CoSignedUnderReferenceKey()
    {
        await using var server = Server();
        var sink = new MemorySink();
        JsonObject? sentMeta = null;
        var transport = new SigningTransport(new TamperingTransport(server.ClientTransport(), r => sentMeta = r.Params!["_meta"]!.DeepClone().AsObject()),
            ClientOptions(sink, mode: ReceiptMetaKeyMode.Reference));
        await using var client = await McpClient.CreateAsync(transport, ClientExtensions.Protocol("2025-11-25")).WaitAsync(Timeout);

        var result = await client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40 }).AsTask().WaitAsync(Timeout);

        Assert.Equal("42", result.Text());
        Assert.True(sentMeta!.ContainsKey(SignetMetaKeys.ReferenceReceipt));
        Assert.False(sentMeta.ContainsKey(SignetMetaKeys.Receipt));
        Assert.NotNull(result.Meta?[SignetMetaKeys.ReferenceCoSignature]);
        Assert.Null(result.Meta?[SignetMetaKeys.CoSignature]);
        Assert.Equal([1, 2, 3], sink.Receipts.Select(r => r.Version));
        AssertAllVerify(sink);
    }

    [Fact]
    public async Task CallToolAsync_ToolReportsError_OutcomeFailedInV2AndV3()
    {
        await using var server = Server();
        var sink = new MemorySink();
        await using var client = await McpClient.CreateAsync(new SigningTransport(server.ClientTransport(), ClientOptions(sink))).WaitAsync(Timeout);

        var result = await client.CallToolAsync("fail").AsTask().WaitAsync(Timeout);

        Assert.True(result.IsError);
        Assert.Equal("{\"status\":\"failed\",\"error\":\"the tool failed\"}", sink.OfVersion(2).Single().Json["response"]!["outcome"]!.ToJsonString());
        Assert.Equal("failed", sink.OfVersion(3).Single().Json["response"]!["outcome"]!["status"]!.GetValue<string>());
        AssertAllVerify(sink);
    }

    private static async Task<(CallToolResult Result, int Invocations, MemorySink Sink)> CallRejected(
        Action<JsonRpcRequest>? tamper = null, SigningKey? key = null, string target = ServerTarget, TimeProvider? time = null, int calls = 1)
    {
        await using var server = Server();
        var sink = new MemorySink();
        var inner = tamper is null ? server.ClientTransport() : new TamperingTransport(server.ClientTransport(), tamper);
        await using var client = await McpClient.CreateAsync(new SigningTransport(inner, ClientOptions(sink, key, requireCoSignature: false, target, time))).WaitAsync(Timeout);
        CallToolResult result = null!;
        for (var i = 0; i < calls; i++)
        {
            result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "pay 10" }).AsTask().WaitAsync(Timeout);
        }
        return (result, server.Invocations, sink);
    }

    [Fact]
    public async Task CallToolAsync_ArgumentTamperedAfterSigning_RejectedAsCallMismatch()
    {
        var (result, invocations, sink) = await CallRejected(tamper: r => r.Params!["arguments"]!["message"] = "pay 10000");

        Assert.True(result.IsError);
        Assert.Contains("CallMismatch", result.Text(), StringComparison.Ordinal);
        Assert.Contains("other arguments", result.Text(), StringComparison.Ordinal);
        Assert.Equal(0, invocations);
        Assert.Empty(sink.OfVersion(3));
        Assert.Equal("failed", sink.OfVersion(2).Single().Json["response"]!["outcome"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task CallToolAsync_ToolNameTampered_RejectedAsCallMismatch()
    {
        var (result, invocations, _) = await CallRejected(tamper: r => r.Params!["name"] = "add");

        Assert.Contains("CallMismatch", result.Text(), StringComparison.Ordinal);
        Assert.Equal(0, invocations);
    }

    [Fact]
    public async Task CallToolAsync_ReplayedReceipt_RejectedAsReplayed()
    {
        JsonObject? first = null;
        var (result, invocations, _) = await CallRejected(tamper: r =>
        {
            if (first is null)
            {
                first = r.ReceiptIn().DeepClone().AsObject();
            }
            else
            {
                r.Params!["_meta"]![SignetMetaKeys.Receipt] = first.DeepClone();
            }
        }, calls: 2);

        Assert.True(result.IsError);
        Assert.Contains("Replayed", result.Text(), StringComparison.Ordinal);
        Assert.Equal(1, invocations);
    }

    [Fact]
    public async Task CallToolAsync_StaleReceipt_RejectedAsNotFresh()
    {
        var tenMinutesAgo = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-10));

        var (result, invocations, _) = await CallRejected(time: tenMinutesAgo);

        Assert.Contains("NotFresh", result.Text(), StringComparison.Ordinal);
        Assert.Contains("s ago", result.Text(), StringComparison.Ordinal);
        Assert.Equal(0, invocations);
    }

    [Fact]
    public async Task CallToolAsync_WrongTarget_RejectedAsWrongTarget()
    {
        var (result, invocations, _) = await CallRejected(target: "mcp://another-server");

        Assert.Contains("WrongTarget", result.Text(), StringComparison.Ordinal);
        Assert.Contains("mcp://another-server", result.Text(), StringComparison.Ordinal);
        Assert.Equal(0, invocations);
    }

    [Fact]
    public async Task CallToolAsync_UntrustedAgentKey_RejectedAsUntrustedKey()
    {
        var (result, invocations, sink) = await CallRejected(key: TestKeys.Other);

        Assert.Contains("UntrustedKey", result.Text(), StringComparison.Ordinal);
        Assert.Contains(TestKeys.Other.PublicKey.Text, result.Text(), StringComparison.Ordinal);
        Assert.Equal(0, invocations);
        Assert.Equal([1, 2], sink.Receipts.Select(r => r.Version));
    }

    [Fact]
    public async Task CallToolAsync_UnsignedClient_RejectedInRequireModeRunsInObserveMode()
    {
        await using (var server = Server())
        {
            await using var client = await McpClient.CreateAsync(server.ClientTransport()).WaitAsync(Timeout);
            var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask().WaitAsync(Timeout);
            Assert.Contains("Unsigned", result.Text(), StringComparison.Ordinal);
            Assert.Equal(0, server.Invocations);
        }
        await using (var server = Server(RequestVerificationMode.Observe))
        {
            await using var client = await McpClient.CreateAsync(server.ClientTransport()).WaitAsync(Timeout);
            var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask().WaitAsync(Timeout);
            Assert.Equal("Echo: x", result.Text());
            Assert.Null(result.Meta?[SignetMetaKeys.CoSignature]);
        }
    }

    [Fact]
    public async Task CallToolAsync_ServerDoesNotCoSignButRequired_FailsWithRefusal()
    {
        await using var server = Server(coSign: false);
        var sink = new MemorySink();
        await using var client = await McpClient.CreateAsync(new SigningTransport(server.ClientTransport(), ClientOptions(sink))).WaitAsync(Timeout);

        var e = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask().WaitAsync(Timeout));

        Assert.Equal(ToolCallRefusedException.JsonRpcErrorCode, (int)e.ErrorCode);
        Assert.Contains("no co-signature", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Invocations);
        Assert.Equal([1, 2], sink.Receipts.Select(r => r.Version));
    }

    [Fact]
    public async Task CallToolAsync_AuditLogFails_FailsLocallyAndSendsNothing()
    {
        await using var server = Server();
        var options = ClientOptions(new MemorySink());
        var failing = new SignetOptions
        {
            Key = options.Key, SignerName = options.SignerName, AuditLog = new FailingSink(), Target = options.Target,
        };
        await using var client = await McpClient.CreateAsync(new SigningTransport(server.ClientTransport(), failing)).WaitAsync(Timeout);

        var e = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask().WaitAsync(Timeout));

        Assert.Equal(ToolCallRefusedException.JsonRpcErrorCode, (int)e.ErrorCode);
        Assert.Contains("audit log", e.Message, StringComparison.Ordinal);
        Assert.Contains("No space left on device", e.Message, StringComparison.Ordinal);
        Assert.IsType<ToolCallRefusedException>(e.InnerException);
        Assert.Equal(0, server.Invocations);
        // The session is still usable for other traffic.
        Assert.NotEmpty(await client.ListToolsAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task CallToolAsync_FiftyConcurrentCalls_AllBilateral()
    {
        await using var server = Server();
        var sink = new MemorySink();
        await using var client = await McpClient.CreateAsync(new SigningTransport(server.ClientTransport(), ClientOptions(sink))).WaitAsync(Timeout);

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"m{i}" }).AsTask())).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"Echo: m{i}"), results.Select(r => r.Text()));
        Assert.Equal((50, 50, 50), (sink.OfVersion(1).Count, sink.OfVersion(2).Count, sink.OfVersion(3).Count));
        AssertAllVerify(sink);
    }

    [Fact]
    public async Task CallToolAsync_ResponseReceiptStillBeingStored_HeldBackWhileOtherResponsesFlow()
    {
        await using var server = Server();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sink = new MemorySink
        {
            BeforeDeferred = r =>
            {
                if (r.Version == 2 && r.Action!["params"]!["message"]!.GetValue<string>() == "first")
                {
                    holding.TrySetResult();
                    return release.Task;
                }
                return Task.CompletedTask;
            },
        };
        await using var client = await McpClient.CreateAsync(new SigningTransport(server.ClientTransport(), ClientOptions(sink))).WaitAsync(Timeout);

        var first = client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "first" }).AsTask();
        await holding.Task.WaitAsync(Timeout);
        var second = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "second" }).AsTask().WaitAsync(Timeout);

        // The second call's response was delivered while the first one's receipt was still being stored.
        Assert.Equal("Echo: second", second.Text());
        Assert.False(first.IsCompleted);
        release.SetResult();
        Assert.Equal("Echo: first", (await first.WaitAsync(Timeout)).Text());
        Assert.Equal((2, 2, 2), (sink.OfVersion(1).Count, sink.OfVersion(2).Count, sink.OfVersion(3).Count));
        AssertAllVerify(sink);
    }

    [Fact]
    public async Task CallToolAsync_ProgressAndCancellation_WorkAsWithoutWrapper()
    {
        await using var server = Server();
        var sink = new MemorySink();
        await using var client = await McpClient.CreateAsync(new SigningTransport(server.ClientTransport(), ClientOptions(sink))).WaitAsync(Timeout);
        // A session-wide handler rather than CallToolAsync's IProgress: the SDK client unregisters the per-call handler
        // when the response arrives and can drop a last notification that is still being dispatched.
        var token = new ProgressToken("steps-" + Guid.NewGuid().ToString("N"));
        var reports = new List<float>();
        var allReported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = client.RegisterNotificationHandler(NotificationMethods.ProgressNotification, (notification, _) =>
        {
            var value = notification.Params.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo<ProgressNotificationParams>());
            if (value is not null && value.ProgressToken.Equals(token))
            {
                lock (reports)
                {
                    reports.Add(value.Progress.Progress);
                    if (reports.Count == 3)
                    {
                        allReported.TrySetResult();
                    }
                }
            }
            return ValueTask.CompletedTask;
        });

        var result = await client.CallToolAsync("steps", new Dictionary<string, object?> { ["steps"] = 3 }, options: new RequestOptions { ProgressToken = token }).AsTask().WaitAsync(Timeout);
        await allReported.Task.WaitAsync(Timeout);

        Assert.Equal("done 3", result.Text());
        Assert.Equal([1f, 2f, 3f], reports.Order());

        using var cts = new CancellationTokenSource();
        var blocked = client.CallToolAsync("block", cancellationToken: cts.Token).AsTask();
        await server.Blocked.Task.WaitAsync(Timeout);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(Timeout));

        // After the cancellation the session still works and every finished call is recorded.
        Assert.Equal("Echo: after", (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "after" }).AsTask().WaitAsync(Timeout)).Text());
        Assert.Equal(3, sink.OfVersion(1).Count);
        Assert.Equal(2, sink.OfVersion(2).Count);
        AssertAllVerify(sink);
    }
}
