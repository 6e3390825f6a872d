using ModelContextProtocol.Client;
using Signet.Audit;
using Signet.Mcp.Client;
using Signet.Mcp.Server;
using Signet.Receipts;

namespace Signet.Mcp.Tests.Client;

/// <summary>SigningTransport writing to the real hash-chained audit log, against an in-process server with both filters.</summary>
public sealed class SigningTransportAuditLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("signet-transport-audit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(AuditDurability.Durable)]
    [InlineData(AuditDurability.Fast)]
    public async Task CallToolAsync_AuditLog_ChainHoldsEveryReceiptAndVerifies(AuditDurability durability)
    {
        await using var server = InProcessServer.Start(o =>
        {
            o.Filters.Request.CallToolFilters.Add(SignetServerFilters.VerifyReceipts(new RequestVerifier(new RequestVerifierOptions { TrustedAgentKeys = [TestKeys.Agent.PublicKey] })));
            o.Filters.Request.CallToolFilters.Add(SignetServerFilters.CoSignResponses(TestKeys.ServerSigner()));
        });
        var recorded = new List<Receipt>();
        await using (var log = AuditLog.Open(_dir, new AuditLogOptions { Durability = durability }))
        {
            var transport = new SigningTransport(server.ClientTransport(), new SignetOptions
            {
                Key = TestKeys.Agent,
                SignerName = "agent",
                AuditLog = log,
                TrustedServerKeys = [TestKeys.Server.PublicKey],
                RequireCoSignature = true,
                OnReceipt = r => { lock (recorded) { recorded.Add(r.Receipt); } },
            });
            await using var client = await McpClient.CreateAsync(transport).WaitAsync(TimeSpan.FromSeconds(60));
            await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
                client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"m{i}" }).AsTask())).WaitAsync(TimeSpan.FromSeconds(60));
        }

        var result = AuditVerifier.Verify(_dir, new AuditVerifyOptions { VerifySignatures = true, TrustedKeys = [TestKeys.Agent.PublicKey, TestKeys.Server.PublicKey] });

        Assert.True(result.IsValid, $"{result.Break?.Message} {string.Join("; ", result.SignatureFailures.Select(f => f.Reason))}");
        Assert.Equal(60, result.RecordCount);
        Assert.Equal(60, recorded.Count);
        Assert.Equal(20, recorded.Count(r => r.Version == 3));
    }
}
