using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using Signet.Audit;
using Signet.Keys;
using Signet.Mcp.Client;
using Signet.Mcp.Recording;

namespace Signet.Mcp.Tests.Hosting;

/// <summary><c>services.AddSignet(…)</c>: options from configuration, key and audit log from a Signet home, checked at host start.</summary>
public sealed class SignetServiceCollectionTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _home = Directory.CreateTempSubdirectory("signet-di-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task AddSignet_OptionsFromConfigurationKeyAndLogFromHome_ResolvesWorkingSigningTransport()
    {
        var key = KeyStore.ForHome(_home).CreateUnencrypted("agent", owner: "team");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Signet:Target"] = "mcp://configured",
            ["Signet:FailureMode"] = "FailClosed",
            ["Signet:MetaKeyMode"] = "Both",
            ["Signet:MaxPendingCalls"] = "50",
        }).Build();
        await using var server = InProcessServer.Start();
        var services = new ServiceCollection();
        services.AddSignet(configuration.GetSection("Signet"))
            .WithKeyFromHome("agent", _home, PassphraseSource.None)
            .WithAuditLog()
            .WithSigningTransport(_ => server.ClientTransport());

        await using (var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true }))
        {
            var options = provider.GetRequiredService<IOptions<SignetOptions>>().Value;
            Assert.Equal(ReceiptMetaKeyMode.Both, options.MetaKeyMode);
            Assert.Equal(50, options.MaxPendingCalls);
            var transport = Assert.IsType<SigningTransport>(provider.GetRequiredService<IClientTransport>());
            Assert.Equal("mcp://configured", transport.Target);
            var factory = provider.GetRequiredService<SignetClientFactory>();
            Assert.Equal("agent", factory.Signer.Name);
            Assert.Same(provider.GetRequiredService<AuditLog>(), factory.AuditLog);
            await using var client = await McpClient.CreateAsync(transport).WaitAsync(Timeout);
            var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" }).AsTask().WaitAsync(Timeout);
            Assert.NotEqual(true, result.IsError);
        }

        // The container closed the log; what it holds verifies against the home's key.
        var verified = AuditVerifier.Verify(SignetHome.AuditDirectory(_home), new AuditVerifyOptions { VerifySignatures = true, TrustedKeys = [key.PublicKey] });
        Assert.True(verified.IsValid, verified.Break?.Message);
        Assert.Equal(2, verified.RecordCount);
    }

    [Fact]
    public async Task AddSignet_InvalidOptions_HostStartFailsNamingEveryProblem()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSignet(o => o.MaxPendingCalls = 0);
        using var host = builder.Build();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Timeout));

        Assert.Contains("SignetOptions.Key is not set", e.Message, StringComparison.Ordinal);
        Assert.Contains("SignetOptions.SignerName is not set", e.Message, StringComparison.Ordinal);
        Assert.Contains("SignetOptions.MaxPendingCalls must be at least 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddSignet_KeyFromContainer_HostStartsAndSignsWithIt()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(TestKeys.AgentSigner());
        builder.Services.AddSignet(o => o.Target = "mcp://x");
        using var host = builder.Build();

        await host.StartAsync().WaitAsync(Timeout);
        var recorder = host.Services.GetRequiredService<SignetClientFactory>().CreateRecorder("mcp://y", "http");

        Assert.Equal(TestKeys.Agent.PublicKey, Assert.IsType<ToolCallRecorder>(recorder).Signer.PublicKey);
        Assert.Equal("http", recorder.Options.Transport);
        await host.StopAsync().WaitAsync(Timeout);
    }
    [Fact]
    public async Task AddSignet_ISignerFromContainer_HostStartsAndReceiptsAreSignedThroughIt()
    {
        using var key = SigningKey.Generate();
        var counting = new CountingSigner(key);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<ISigner>(counting);
        builder.Services.AddSignet(o => o.SignerName = "token-agent");
        using var host = builder.Build();

        await host.StartAsync().WaitAsync(Timeout);
        var receipt = host.Services.GetRequiredService<SignetClientFactory>().Signer
            .SignRequest(new Receipts.ReceiptAction { Tool = "echo", Target = "mcp://x" });

        Assert.Equal(1, counting.Signatures);
        var verified = Receipts.ReceiptVerifier.Verify(receipt.ToJsonString(), new Receipts.ReceiptVerificationOptions { TrustedKeys = [key.PublicKey] });
        Assert.True(verified.IsValid && verified.IsAnchored, verified.Reason);
        await host.StopAsync().WaitAsync(Timeout);
    }

    [Fact]
    public void AddSignet_KeySignerOption_UsedWhenKeyIsNotSet()
    {
        using var key = SigningKey.Generate();
        var counting = new CountingSigner(key);
        var services = new ServiceCollection();
        services.AddSignet(o =>
        {
            o.KeySigner = counting;
            o.SignerName = "token-agent";
        });
        using var provider = services.BuildServiceProvider();

        var signer = provider.GetRequiredService<SignetClientFactory>().Signer;
        signer.SignRequest(new Receipts.ReceiptAction { Tool = "echo", Target = "mcp://x" });

        Assert.Equal(key.PublicKey, signer.PublicKey);
        Assert.Equal(1, counting.Signatures);
    }

    /// <summary>A key that signs through the seam and counts, as a token key would sign elsewhere.</summary>
    private sealed class CountingSigner(SigningKey key) : ISigner
    {
        private int _signatures;

        public int Signatures => _signatures;

        public PublicKey PublicKey => key.PublicKey;

        public string Description => "counting test key";

        public byte[] Sign(ReadOnlySpan<byte> data)
        {
            Interlocked.Increment(ref _signatures);
            return key.Sign(data);
        }

        public void Dispose()
        {
        }
    }
}
