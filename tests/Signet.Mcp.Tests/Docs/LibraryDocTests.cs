using System.IO.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Signet.Keys;
using Signet.Mcp.Client;
using Signet.Mcp.Server;
using Signet.Receipts;

namespace Signet.Mcp.Tests.Docs;

/// <summary>The snippets of docs/library.md: they live here so they compile, run, and stay in the page verbatim.</summary>
public sealed class LibraryDocTests
{
    #region client
    static async Task<CallToolResult> CallSignedAsync(IClientTransport inner, SigningKey agentKey, IReceiptSink auditLog, PublicKey serverKey)
    {
        var transport = new SigningTransport(inner, new SignetOptions
        {
            Key = agentKey,                    // the agent's Ed25519 key
            SignerName = "my-agent",
            Target = "mcp://my-server",        // the server, as signed into every receipt
            AuditLog = auditLog,               // omit to sign without a local record
            TrustedServerKeys = [serverKey],   // optional: anchors the server's co-signatures
        });
        await using var client = await McpClient.CreateAsync(transport);
        return await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hello" });
    }
    #endregion

    #region server
    static IMcpServerBuilder AddSignet(IMcpServerBuilder mcp, PublicKey agentKey, SigningKey serverKey) => mcp
        .WithSignetReceiptVerification(o =>
        {
            o.TrustedAgentKeys = [agentKey];       // whose calls this server accepts
            o.ExpectedTarget = "mcp://my-server";  // the target agents sign for
        })
        .WithSignetCoSigning(o => o.Signer = new ReceiptSigner(serverKey, "my-server"));
    #endregion

    #region di
    static ISignetBuilder AddSignedClientTransport(IServiceCollection services, IConfiguration configuration) =>
        services.AddSignet(configuration.GetSection("Signet"))   // SignerName, FailureMode, MetaKeyMode, … (validated at start)
            .WithKeyFromHome("my-agent")                         // <home>/keys/my-agent, loaded when first needed
            .WithAuditLog()                                      // <home>/audit, flushed and closed by the container
            .WithSigningTransport(_ => new StdioClientTransport(new() { Command = "node", Arguments = ["server.js", "stdio"] }));
    #endregion

    private static string DocPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
            {
                return Path.Combine(dir.FullName, "docs", "library.md");
            }
        }
        throw new InvalidOperationException("repository root not found");
    }

    private static string Region(string name)
    {
        var source = File.ReadAllText(Path.Combine(Path.GetDirectoryName(DocPath())!, "..", "tests", "Signet.Mcp.Tests", "Docs", "LibraryDocTests.cs"));
        var start = source.IndexOf($"#region {name}\n", StringComparison.Ordinal) + $"#region {name}\n".Length;
        var end = source.IndexOf("    #endregion", start, StringComparison.Ordinal);
        var lines = source[start..end].TrimEnd('\n').Split('\n');
        return string.Join('\n', lines.Select(l => l.Length >= 4 ? l[4..] : l.TrimStart()));
    }

    [Theory]
    [InlineData("client")]
    [InlineData("server")]
    [InlineData("di")]
    public void LibraryDoc_Snippet_AppearsVerbatim(string region)
    {
        var doc = File.ReadAllText(DocPath()).Replace("\r\n", "\n", StringComparison.Ordinal);

        Assert.Contains("```csharp\n" + Region(region) + "\n```", doc, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LibraryDoc_ClientAndServerSnippets_RunTogether()
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var services = new ServiceCollection();
        var mcp = services.AddMcpServer(o => o.ServerInfo = new Implementation { Name = "my-server", Version = "1.0.0" })
            .WithStreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream())
            .WithTools([McpServerTool.Create((string message) => $"Echo: {message}", new() { Name = "echo" })]);
        AddSignet(mcp, TestKeys.Agent.PublicKey, TestKeys.Server);
        await using var provider = services.BuildServiceProvider();
        var server = provider.GetRequiredService<McpServer>();
        var run = server.RunAsync();
        var sink = new MemorySink();

        var result = await CallSignedAsync(new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream()),
            TestKeys.Agent, sink, TestKeys.Server.PublicKey).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("Echo: hello", result.Text());
        Assert.Equal([1, 2, 3], sink.Receipts.Select(r => r.Version));
        await toServer.Writer.CompleteAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task LibraryDoc_DiSnippet_ResolvesSigningTransport()
    {
        var services = new ServiceCollection();
        // Registered first, so that the snippet's home key and audit log are not needed (registrations the container has win).
        services.AddSingleton(TestKeys.Agent);
        services.AddSingleton<IReceiptSink>(new MemorySink());
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Signet:SignerName"] = "my-agent" }).Build();
        AddSignedClientTransport(services, configuration);
        await using var provider = services.BuildServiceProvider();

        var transport = Assert.IsType<SigningTransport>(provider.GetRequiredService<IClientTransport>());

        Assert.Same(transport, provider.GetRequiredService<SigningTransport>());
        Assert.Equal("mcp://node", transport.Target); // from the SDK transport name "stdio-node"; set Target to name the server
        Assert.Equal("stdio", transport.TransportKind);
    }
}
