using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Signet.Keys;

// Usage: Signet.Mcp.Redis.TestServer REDIS_CONFIGURATION AGENT_PUBLIC_KEY
// An MCP server on stdio with one tool, echo, whose calls must carry a receipt by the agent key; nonces go to Redis.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Signet.Mcp.Redis.TestServer REDIS_CONFIGURATION AGENT_PUBLIC_KEY");
    return 2;
}

var builder = Host.CreateApplicationBuilder();
// stdout is the protocol: logs go to stderr.
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.AddMcpServer(o => o.ServerInfo = new Implementation { Name = "redis-test-server", Version = "1.0.0" })
    .WithStdioServerTransport()
    .WithTools([McpServerTool.Create((string message) => $"Echo: {message}", new() { Name = "echo" })])
    .WithSignetReceiptVerification(o => o.TrustedAgentKeys = [PublicKey.Parse(args[1])])
    .WithSignetRedisNonceCache(o => o.Configuration = args[0]);
await builder.Build().RunAsync();
return 0;
