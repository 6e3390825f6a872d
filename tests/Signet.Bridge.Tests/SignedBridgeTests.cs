using Signet.Mcp.Tests.Interop;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Audit;
using Signet.Keys;

namespace Signet.Bridge.Tests;

/// <summary>The real recorder and audit log behind the bridge: every receipt verifies, and names the session and the public URL.</summary>
public sealed partial class SignedBridgeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string home = Directory.CreateTempSubdirectory("signet-bridge-home-").FullName;

    public void Dispose() => Directory.Delete(home, recursive: true);

    private static string Text(CallToolResult result) => string.Join("|", result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    [Fact]
    public async Task RealRecorder_TwoSessions_EveryReceiptVerifiesWithSessionAndPublicUrl()
    {
        KeyStore.ForHome(home).CreateUnencrypted("agent");
        PublicKey publicKey;
        string?[] sessions;
        await using (var recording = BridgeRecording.Open(home, "agent", PassphraseSource.None, NullLoggerFactory.Instance))
        {
            publicKey = recording.PublicKey;
            var options = new BridgeOptions
            {
                Listen = { "127.0.0.1:0" },
                PublicUrl = "https://tools.example.net",
                Token = BridgeHarness.Token,
                Backends = { BridgeHarness.EverythingBackend("everything") },
            };
            await using var server = BridgeServer.Create(options, recording.CreateRecorder, NullLoggerFactory.Instance);
            await server.StartAsync();
            var local = new Uri(server.Addresses[0], "/mcp/everything");
            var harness = new[] { server.Endpoints[0].Url };
            Assert.Equal(new Uri("https://tools.example.net/mcp/everything"), harness[0]);
            await using var a = await ConnectAsync(local);
            await using var b = await ConnectAsync(local);
            sessions = [a.SessionId, b.SessionId];
            await Task.WhenAll(
                Enumerable.Range(0, 5).Select(i => a.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"a{i}" }).AsTask())
                .Concat(Enumerable.Range(0, 5).Select(i => b.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = i, ["b"] = 1 }).AsTask())))
                .WaitAsync(Timeout);
            await server.StopAsync();
        }

        var audit = SignetHome.AuditDirectory(home);
        var result = AuditVerifier.Verify(audit, new AuditVerifyOptions { VerifySignatures = true, TrustedKeys = [publicKey] });
        Assert.True(result.IsValid, result.Break?.Message ?? string.Join("; ", result.SignatureFailures.Select(f => f.Reason)));
        Assert.Equal(20, result.RecordCount);
        Assert.Equal(20, result.SignaturesChecked);
        var receipts = AuditQuery.Read(audit).Select(e => e.Receipt).ToList();
        Assert.All(receipts, r =>
        {
            Assert.Equal("https://tools.example.net/mcp/everything", r["action"]!["target"]!.GetValue<string>());
            Assert.Equal("http", r["action"]!["transport"]!.GetValue<string>());
            Assert.Contains(r["action"]!["session"]!.GetValue<string>(), sessions);
        });
        Assert.Equal(10, receipts.Count(r => r["action"]!["session"]!.GetValue<string>() == sessions[0]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Open_SyncResponseReceipts_ReachesEveryBackendsRecorder(bool sync)
    {
        KeyStore.ForHome(home).CreateUnencrypted("agent");
        await using var recording = BridgeRecording.Open(home, "agent", PassphraseSource.None, NullLoggerFactory.Instance);
        var settings = new BridgeOptions { SyncResponseReceipts = sync }.EffectiveRecording();
        var recorder = Assert.IsType<Signet.Mcp.Recording.ToolCallRecorder>(recording.CreateRecorder(new BridgeRecorderTarget("files", new Uri("https://tools.example.net/mcp/files"), settings)));
        Assert.Equal(Signet.Mcp.Recording.RecordingFailureMode.FailClosed, recorder.Options.FailureMode);
        Assert.Equal(sync, recorder.Options.SyncResponseReceipts);
        Assert.Equal("https://tools.example.net/mcp/files", recorder.Options.Target);
    }

    [Fact]
    public async Task CliBridge_SigtermDuringCall_FinishesTheCallStopsTheChildAndFlushesTheLog()
    {
        var agent = KeyStore.ForHome(home).CreateUnencrypted("agent").PublicKey;
        // A witness the bridge publishes its checkpoints to: the one it signs on exit must carry its cosignature.
        var logKey = Signet.Transparency.NoteVerifierKey.ForSignatures(Signet.Transparency.AuditCheckpoints.DefaultOrigin(agent), agent);
        using var witnessKey = SigningKey.Generate();
        using var witness = Signet.Transparency.Witness.Open(Path.Combine(home, "witness-state"), "w.test/witness", witnessKey, [logKey]);
        var witnessOptions = new Signet.Bridge.Witness.WitnessServerOptions();
        witnessOptions.Listen.Add("127.0.0.1:0");
        await using var witnessServer = Signet.Bridge.Witness.WitnessServer.Create(witness, witnessOptions, NullLoggerFactory.Instance);
        await witnessServer.StartAsync();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "signet.dll"), "bridge", "--home", home, "--key", "agent",
            "--listen", "127.0.0.1:0", "--witness", $"{new Uri(witnessServer.Addresses[0], "/")}={witness.VerifierKey}", "--", "node", NpmPeers.ServerEverything, "stdio" })
        {
            info.ArgumentList.Add(arg);
        }
        using var bridge = Process.Start(info)!;
        var stderr = new List<string>();
        var endpoint = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var childPid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = Task.Run(async () =>
        {
            while (await bridge.StandardError.ReadLineAsync() is { } line)
            {
                lock (stderr)
                {
                    stderr.Add(line);
                }
                if (EndpointLine().Match(line) is { Success: true } m)
                {
                    endpoint.TrySetResult(new Uri(m.Groups[1].Value));
                }
                if (ChildLine().Match(line) is { Success: true } c)
                {
                    childPid.TrySetResult(int.Parse(c.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        });
        try
        {
            var url = await endpoint.Task.WaitAsync(Timeout);
            var token = (await File.ReadAllTextAsync(Path.Combine(home, "bridge.token"))).Trim();
            lock (stderr)
            {
                Assert.Contains(token, stderr);   // shown once, on stderr
            }
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(home, "bridge.token")));
            }
            var harness = new BridgeClientFactory(url, token);
            await using var client = await harness.ConnectAsync();
            var pid = await childPid.Task.WaitAsync(Timeout);
            var progressed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var call = client.CallToolAsync("trigger-long-running-operation", new Dictionary<string, object?> { ["duration"] = 2, ["steps"] = 2 },
                new Progress(progressed)).AsTask();
            await progressed.Task.WaitAsync(Timeout);   // the call is in flight
            using (var kill = Process.Start("kill", ["-TERM", bridge.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            Assert.Contains("completed", Text(await call.WaitAsync(Timeout)), StringComparison.OrdinalIgnoreCase);
            await bridge.WaitForExitAsync().WaitAsync(Timeout);
            await reader.WaitAsync(Timeout);
            Assert.Equal(0, bridge.ExitCode);
            Assert.True(BridgeHarness.ProcessIsGone(pid), $"child {pid} survived the bridge");
            var result = AuditVerifier.Verify(SignetHome.AuditDirectory(home), new AuditVerifyOptions { VerifySignatures = true });
            Assert.True(result.IsValid, result.Break?.Message);
            Assert.Equal(2, result.RecordCount);   // request (v1) and response (v2) of the call in flight
            // On exit, after the last receipt: a checkpoint of both records, cosigned by the witness.
            var checkpoint = Signet.Transparency.SignedCheckpoint.Parse(File.ReadAllText(Path.Combine(SignetHome.AuditDirectory(home), "checkpoint")));
            Assert.Equal(2, checkpoint.Checkpoint.Size);
            Assert.Single(checkpoint.Verify(logKey, Signet.Transparency.WitnessPolicy.Threshold(1, [witness.VerifierKey])).Cosignatures);
            lock (stderr)
            {
                Assert.DoesNotContain(stderr.Skip(stderr.FindIndex(l => l == token) + 1), l => l.Contains(token, StringComparison.Ordinal));
            }
        }
        finally
        {
            if (!bridge.HasExited)
            {
                bridge.Kill(entireProcessTree: true);
            }
        }
    }

    private static Task<McpClient> ConnectAsync(Uri url) => new BridgeClientFactory(url, BridgeHarness.Token).ConnectAsync();

    [GeneratedRegex(@"^signet bridge: 'default' at (\S+) ")]
    private static partial Regex EndpointLine();

    [GeneratedRegex(@"\(child process (\d+)\)")]
    private static partial Regex ChildLine();

    private sealed class Progress(TaskCompletionSource first) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => first.TrySetResult();
    }

    private sealed class BridgeClientFactory(Uri url, string token)
    {
        public Task<McpClient> ConnectAsync() => McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = url,
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + token },
        }), new McpClientOptions { ProtocolVersion = "2025-11-25" }).WaitAsync(Timeout);
    }
}
