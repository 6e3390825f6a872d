using Signet.Mcp.Tests.Interop;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Signet.Bridge.Tests;

/// <summary>The C# SDK's HttpClientTransport through the bridge to the real server-everything (stdio), compared with direct.</summary>
public sealed class BridgeEndToEndTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static string Text(CallToolResult result) =>
        string.Join("|", result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    [Fact]
    public async Task ToolsResourcesPrompts_ThroughBridge_SameAsDirect()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        await using var viaBridge = await bridge.ConnectAsync();
        await using var direct = await BridgeHarness.ConnectDirectAsync();

        foreach (var client in new[] { viaBridge, direct })
        {
            Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
        }
        Assert.Equal((await direct.ListToolsAsync()).Select(t => t.Name), (await viaBridge.ListToolsAsync()).Select(t => t.Name));
        var args = new Dictionary<string, object?> { ["message"] = "héllo <&> 😀" };
        Assert.Equal(Text(await direct.CallToolAsync("echo", args)), Text(await viaBridge.CallToolAsync("echo", args)));
        var sum = new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40 };
        Assert.Equal(Text(await direct.CallToolAsync("get-sum", sum)), Text(await viaBridge.CallToolAsync("get-sum", sum)));

        var directResources = await direct.ListResourcesAsync();
        var bridgeResources = await viaBridge.ListResourcesAsync();
        Assert.Equal(directResources.Select(r => r.Uri), bridgeResources.Select(r => r.Uri));
        var uri = bridgeResources[0].Uri;
        Assert.Equal(JsonSerializer.Serialize((await direct.ReadResourceAsync(uri)).Contents.Count),
            JsonSerializer.Serialize((await viaBridge.ReadResourceAsync(uri)).Contents.Count));

        var directPrompts = await direct.ListPromptsAsync();
        Assert.Equal(directPrompts.Select(p => p.Name), (await viaBridge.ListPromptsAsync()).Select(p => p.Name));
        var simple = directPrompts.First(p => p.ProtocolPrompt.Arguments is null or { Count: 0 }).Name;
        Assert.Equal((await direct.GetPromptAsync(simple)).Messages.Count, (await viaBridge.GetPromptAsync(simple)).Messages.Count);

        Assert.Equal(2, bridge.Recorder.Requests.Count);
        Assert.Equal(2, bridge.Recorder.Responses.Count);
        Assert.All(bridge.Recorder.Requests, r => Assert.Equal(viaBridge.SessionId, r.SessionId));
    }

    [Fact]
    public async Task LongRunningTool_ThroughBridge_ProgressArrivesBeforeResult()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        await using var client = await bridge.ConnectAsync();
        // A session-wide handler rather than CallToolAsync's IProgress: the SDK client unregisters the per-call handler
        // when the response arrives and can drop a last notification that is still being dispatched.
        var token = new ProgressToken("long-" + Guid.NewGuid().ToString("N"));
        var updates = new List<float>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = client.RegisterNotificationHandler(NotificationMethods.ProgressNotification, (notification, _) =>
        {
            var value = notification.Params.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo<ProgressNotificationParams>());
            if (value is not null && value.ProgressToken.Equals(token))
            {
                lock (updates)
                {
                    updates.Add(value.Progress.Progress);
                    if (updates.Count == 3)
                    {
                        all.TrySetResult();
                    }
                }
            }
            return ValueTask.CompletedTask;
        });
        var result = await client.CallToolAsync("trigger-long-running-operation",
            new Dictionary<string, object?> { ["duration"] = 1, ["steps"] = 3 }, options: new RequestOptions { ProgressToken = token }).AsTask().WaitAsync(Timeout);
        await all.Task.WaitAsync(Timeout);
        Assert.Equal([1f, 2f, 3f], updates.Order());
        Assert.Contains("completed", Text(result), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TwoSessions_Concurrent_DoNotSeeEachOthersMessages()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        await using var a = await bridge.ConnectAsync();
        await using var b = await bridge.ConnectAsync();
        Assert.NotEqual(a.SessionId, b.SessionId);
        var pids = bridge.Server.Sessions.Sessions.Select(s => s.ChildProcessId).Distinct().ToList();
        Assert.Equal(2, pids.Count);

        async Task<List<string>> Run(McpClient client, string tag) =>
            (await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
                Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"{tag}-{i}" }))))).ToList();
        var results = await Task.WhenAll(Run(a, "A"), Run(b, "B")).WaitAsync(Timeout);
        Assert.All(results[0], t => Assert.Contains("A-", t, StringComparison.Ordinal));
        Assert.All(results[1], t => Assert.Contains("B-", t, StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"A-{i}"), results[0].Select(t => t[(t.IndexOf("A-", StringComparison.Ordinal))..]));
        Assert.Equal(20, bridge.Recorder.Requests.Count(r => r.SessionId == a.SessionId));
        Assert.Equal(20, bridge.Recorder.Requests.Count(r => r.SessionId == b.SessionId));
    }

    [Fact]
    public async Task DeleteSession_ByClientDispose_EndsItsChild()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        var client = await bridge.ConnectAsync();
        var session = Assert.Single(bridge.Server.Sessions.Sessions);
        var pid = session.ChildProcessId;
        Assert.False(BridgeHarness.ProcessIsGone(pid));
        await client.DisposeAsync();
        Assert.Contains("deleted", await session.Ended.WaitAsync(Timeout), StringComparison.Ordinal);
        await session.Stopped.WaitAsync(Timeout);
        Assert.True(BridgeHarness.ProcessIsGone(pid));
        Assert.Empty(bridge.Server.Sessions.Sessions);
    }

    [Fact]
    public async Task DeleteSession_ChildWithGrandchild_EndsTheWholeTree()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), "signet-bridge-grandchild-" + Guid.NewGuid().ToString("N"));
        await using var bridge = await BridgeHarness.StartAsync(o =>
        {
            // The grandchild ignores stdin and outlives its parent unless the bridge ends it.
            o.Backends[0] = new BridgeBackendOptions
            {
                Name = "default",
                Command = "sh",
                Args = { "-c", $"sleep 600 & echo $! > '{pidFile}'; exec node '{NpmPeers.ServerEverything}' stdio" },
            };
        });
        var client = await bridge.ConnectAsync();
        var session = Assert.Single(bridge.Server.Sessions.Sessions);
        var grandchild = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(BridgeHarness.ProcessIsGone(grandchild));
        await client.DisposeAsync();
        await session.Stopped.WaitAsync(Timeout);
        Assert.True(BridgeHarness.ProcessIsGone(session.ChildProcessId));
        Assert.True(BridgeHarness.ProcessIsGone(grandchild), $"grandchild {grandchild} survived");
        File.Delete(pidFile);
    }

    [Fact]
    public async Task IdleSession_AfterTimeout_EndsItsChild()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var bridge = await BridgeHarness.StartAsync(o => o.Limits.SessionIdleTimeout = TimeSpan.FromMinutes(5), time);
        await using var client = await bridge.ConnectAsync();
        await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" });
        var session = Assert.Single(bridge.Server.Sessions.Sessions);
        var pid = session.ChildProcessId;
        time.Advance(TimeSpan.FromMinutes(6));
        await bridge.Server.Sessions.SweepOnceAsync();
        Assert.Contains("idle", await session.Ended.WaitAsync(Timeout), StringComparison.Ordinal);
        await session.Stopped.WaitAsync(Timeout);
        Assert.True(BridgeHarness.ProcessIsGone(pid));
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
            await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "y" }).AsTask().WaitAsync(Timeout));
        Assert.NotNull(error);
    }

    [Fact]
    public async Task StopBridge_WithOpenSessions_EndsEveryChild()
    {
        var bridge = await BridgeHarness.StartAsync();
        var clients = new List<McpClient> { await bridge.ConnectAsync(), await bridge.ConnectAsync(), await bridge.ConnectAsync() };
        var pids = bridge.Server.Sessions.Sessions.Select(s => s.ChildProcessId).ToList();
        Assert.Equal(3, pids.Count);
        await bridge.Server.StopAsync().WaitAsync(Timeout);
        Assert.All(pids, pid => Assert.True(BridgeHarness.ProcessIsGone(pid), $"child {pid} survived"));
        await bridge.DisposeAsync();
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task SessionLimit_WhenFull_EvictsTheIdleSessionAndEndsItsChild()
    {
        await using var bridge = await BridgeHarness.StartAsync(o => o.Limits.MaxSessions = 1);
        await using var first = await bridge.ConnectAsync();
        var firstSession = Assert.Single(bridge.Server.Sessions.Sessions);
        await using var second = await bridge.ConnectAsync();
        Assert.Contains("evicted", await firstSession.Ended.WaitAsync(Timeout), StringComparison.Ordinal);
        await firstSession.Stopped.WaitAsync(Timeout);
        Assert.True(BridgeHarness.ProcessIsGone(firstSession.ChildProcessId));
        Assert.Equal("ok", Text(await second.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "ok" }))[^2..]);
    }

    [Fact]
    public async Task RefusedCall_FailClosed_AnsweredWithErrorAndNotForwarded()
    {
        var recorder = new TestRecorder { Refuse = p => p["name"]?.GetValue<string>() == "get-sum" };
        await using var bridge = await BridgeHarness.StartAsync(recorder: recorder);
        await using var client = await bridge.ConnectAsync();
        var error = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(async () =>
            await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }));
        Assert.Contains("refused by the test recorder", error.Message, StringComparison.Ordinal);
        Assert.Empty(recorder.Responses);
        Assert.Contains("x", Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" })), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChildEnvironment_SignetSecrets_NotPassedButHomeAndBackendEnvAre()
    {
        Environment.SetEnvironmentVariable("SIGNET_PASSPHRASE", "secret-passphrase-for-the-env-test");
        try
        {
            await using var bridge = await BridgeHarness.StartAsync(o => o.Backends[0].Env["BRIDGE_TEST_VALUE"] = "visible-to-the-child");
            await using var client = await bridge.ConnectAsync();
            var env = Text(await client.CallToolAsync("get-env"));
            Assert.DoesNotContain("secret-passphrase-for-the-env-test", env, StringComparison.Ordinal);
            Assert.DoesNotContain(BridgeHarness.Token, env, StringComparison.Ordinal);
            Assert.Contains("visible-to-the-child", env, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SIGNET_PASSPHRASE", null);
        }
    }

    [Fact]
    public async Task Client240_WithoutVersionPin_ProbesDiscoverThenUsesSession()
    {
        await using var bridge = await BridgeHarness.StartAsync();
        await using var client = await bridge.ConnectAsync(protocolVersion: null);
        Assert.NotNull(client.SessionId);
        Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
        Assert.Contains("probe", Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "probe" })), StringComparison.Ordinal);
    }
}
