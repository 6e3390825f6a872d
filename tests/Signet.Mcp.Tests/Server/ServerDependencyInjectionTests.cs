using System.IO.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Signet.Keys;
using Signet.Mcp.Client;
using Signet.Mcp.Server;
using Signet.Receipts;
using Signet.Trust;

namespace Signet.Mcp.Tests.Server;

/// <summary>
/// The server filters hosted the SDK's way: <c>AddMcpServer().WithSignet…()</c> on a real service container, the
/// filters resolving their verifier, nonce cache and signer from it, options validated at start.
/// </summary>
public sealed class ServerDependencyInjectionTests
{
    /// <summary>A nonce cache registered in the container, counting what it is asked.</summary>
    private sealed class CountingNonceCache : INonceCache
    {
        private readonly MemoryNonceCache _inner = new();

        public int Calls { get; private set; }

        public bool TryRecord(string signerKey, string nonce, DateTimeOffset expiresAt)
        {
            Calls++;
            return _inner.TryRecord(signerKey, nonce, expiresAt);
        }
    }

    private sealed class Server : IAsyncDisposable
    {
        private readonly Pipe _toServer = new();
        private readonly Pipe _toClient = new();
        private readonly ServiceProvider _provider;
        private readonly Task _run;

        public Server(Action<IServiceCollection, IMcpServerBuilder> configure)
        {
            var services = new ServiceCollection();
            var mcp = services.AddMcpServer(o => o.ServerInfo = new Implementation { Name = "di-server", Version = "1.0.0" })
                .WithStreamServerTransport(_toServer.Reader.AsStream(), _toClient.Writer.AsStream())
                .WithTools([McpServerTool.Create((string message) => $"Echo: {message}", new() { Name = "echo" })]);
            configure(services, mcp);
            _provider = services.BuildServiceProvider();
            _provider.GetRequiredService<IStartupValidator>().Validate();
            _run = _provider.GetRequiredService<McpServer>().RunAsync();
        }

        public IServiceProvider Services => _provider;

        public async Task<CallToolResult> CallAsync(MemorySink sink, SigningKey? key = null)
        {
            var transport = new SigningTransport(new StreamClientTransport(_toServer.Writer.AsStream(), _toClient.Reader.AsStream()),
                new SignetOptions { Key = key ?? TestKeys.Agent, SignerName = "test-agent", AuditLog = sink, TrustedServerKeys = [TestKeys.Server.PublicKey] });
            await using var client = await McpClient.CreateAsync(transport).WaitAsync(TimeSpan.FromSeconds(60));
            return await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" }).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }

        public async ValueTask DisposeAsync()
        {
            await _toServer.Writer.CompleteAsync();
            await _run.WaitAsync(TimeSpan.FromSeconds(60));
            await _provider.DisposeAsync();
        }
    }

    [Fact]
    public async Task WithSignetReceiptVerification_NonceCacheInContainer_IsTheOneUsed()
    {
        var nonces = new CountingNonceCache();
        await using var server = new Server((services, mcp) =>
        {
            services.AddSingleton<INonceCache>(nonces);
            mcp.WithSignetReceiptVerification(o => o.TrustedAgentKeys = [TestKeys.Agent.PublicKey]);
        });

        var result = await server.CallAsync(new MemorySink());

        Assert.Equal("Echo: hi", result.Text());
        Assert.Equal(1, nonces.Calls);
        Assert.Same(nonces, server.Services.GetRequiredService<RequestVerifier>().Options.NonceCache);
    }

    [Fact]
    public async Task WithSignetReceiptVerification_UntrustedKey_CallRejectedByVerifierFromOptions()
    {
        await using var server = new Server((services, mcp) =>
            mcp.WithSignetReceiptVerification(o => o.TrustedAgentKeys = [TestKeys.Agent.PublicKey]));

        var result = await server.CallAsync(new MemorySink(), TestKeys.Other);

        Assert.True(result.IsError);
        Assert.Contains("UntrustedKey", result.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithSignetReceiptVerification_TrustBundleFileRevokedWhileRunning_NextCallRejected()
    {
        var dir = Path.Combine(Path.GetTempPath(), "signet-trust-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        try
        {
            var path = Path.Combine(dir, "trust.json");
            var entry = new TrustEntry { Id = "agent", Name = "agent", Owner = "", PublicKey = TestKeys.Agent.PublicKey, CreatedAt = DateTimeOffset.UnixEpoch };
            var bundle = new TrustBundle { BundleId = "b", Org = "o", Env = "test", GeneratedAt = DateTimeOffset.UnixEpoch }.WithEntry(TrustSection.Agents, entry);
            bundle.Save(path);
            await using var server = new Server((services, mcp) => mcp.WithSignetReceiptVerification(o => o.TrustBundle = new TrustBundleFile(path)));
            var sink = new MemorySink();

            var first = await server.CallAsync(sink);
            // Revoked from the first receipt's own time: every later receipt is dated at or after it.
            ReceiptText.TryParseTimestamp(sink.OfVersion(1).First().Json["ts"]!.GetValue<string>(), out var firstTs);
            bundle.WithReplaced(TrustSection.Agents, "agent", entry with { Status = TrustStatus.Revoked, RevokedAt = firstTs }).Save(path);
            var second = await server.CallAsync(sink);

            Assert.Equal("Echo: hi", first.Text());
            Assert.True(second.IsError);
            Assert.Contains("UntrustedKey", second.Text(), StringComparison.Ordinal);
            Assert.Contains("(agents/agent), which was revoked at", second.Text(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task WithSignetReceiptVerification_VerifierRegisteredByHost_TakesPrecedence()
    {
        await using var server = new Server((services, mcp) =>
        {
            services.AddSingleton(new RequestVerifier(new RequestVerifierOptions { AllowAnyAgentKey = true }));
            // These options alone would refuse the key below; the host's own verifier is the one used.
            mcp.WithSignetReceiptVerification(o => o.TrustedAgentKeys = [TestKeys.Agent.PublicKey]);
        });

        var result = await server.CallAsync(new MemorySink(), TestKeys.Other);

        Assert.Equal("Echo: hi", result.Text());
    }

    [Fact]
    public async Task WithSignetReceiptVerification_ConfiguredThroughServicesConfigure_Applies()
    {
        await using var server = new Server((services, mcp) =>
        {
            mcp.WithSignetReceiptVerification();
            services.Configure<RequestVerifierOptions>(o =>
            {
                o.TrustedAgentKeys = [TestKeys.Agent.PublicKey];
                o.ExpectedTarget = "mcp://elsewhere";
            });
        });

        var result = await server.CallAsync(new MemorySink());

        Assert.True(result.IsError);
        Assert.Contains("WrongTarget", result.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithSignetCoSigning_SignerFromOptions_ResponseCoSignedAndAnchored()
    {
        await using var server = new Server((services, mcp) => mcp
            .WithSignetReceiptVerification(o => o.TrustedAgentKeys = [TestKeys.Agent.PublicKey])
            .WithSignetCoSigning(o => o.Signer = TestKeys.ServerSigner()));
        var sink = new MemorySink();

        await server.CallAsync(sink);

        var v3 = Assert.Single(sink.OfVersion(3));
        Assert.Equal(TestKeys.Server.PublicKey.ToString(), v3.SignerKey);
    }

    [Fact]
    public void WithSignetReceiptVerification_NoTrustedKey_FailsAtStartNamingTheSetting()
    {
        var services = new ServiceCollection();
        services.AddMcpServer().WithSignetReceiptVerification();
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("TrustedAgentKeys is empty", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxAge")]
    [InlineData("ClockSkew")]
    public void WithSignetReceiptVerification_BadWindow_FailsAtStartNamingTheSetting(string setting)
    {
        var services = new ServiceCollection();
        services.AddMcpServer().WithSignetReceiptVerification(o =>
        {
            o.AllowAnyAgentKey = true;
            if (setting == "MaxAge")
            {
                o.MaxAge = TimeSpan.Zero;
            }
            else
            {
                o.ClockSkew = TimeSpan.FromSeconds(-1);
            }
        });
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains($"RequestVerifierOptions.{setting}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithSignetCoSigning_NoSigner_FailsAtStartNamingTheSetting()
    {
        var services = new ServiceCollection();
        services.AddMcpServer().WithSignetCoSigning();
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("SignetCoSigningOptions.Signer is not set", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RequestVerifier_OptionsChangedAfterCreation_KeepsItsCopy()
    {
        var options = new RequestVerifierOptions { TrustedAgentKeys = [TestKeys.Agent.PublicKey] };
        var verifier = new RequestVerifier(options);

        options.TrustedAgentKeys = [TestKeys.Other.PublicKey];
        options.ExpectedTarget = "mcp://changed";

        Assert.Equal([TestKeys.Agent.PublicKey], verifier.Options.TrustedAgentKeys);
        Assert.Null(verifier.Options.ExpectedTarget);
    }
}
