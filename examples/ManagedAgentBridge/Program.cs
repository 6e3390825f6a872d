// A host that puts local MCP tool servers behind one authenticated Streamable HTTP endpoint for Claude Managed
// Agents, signing every tools/call into a local audit log. See README.md for the step-by-step.
using ManagedAgentBridge;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddSerilog((_, logging) => logging.ReadFrom.Configuration(builder.Configuration));
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(35));
builder.Services.AddHostedService<BridgeService>();
using var host = builder.Build();
try
{
    await host.RunAsync();
    return 0;
}
catch (Signet.SignetException e)
{
    // Configuration and key problems: a clear message, no stack trace.
    Console.Error.WriteLine($"ManagedAgentBridge: {e.Message}");
    return 1;
}
