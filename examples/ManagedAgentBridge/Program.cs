// A host that puts local MCP tool servers behind one authenticated Streamable HTTP endpoint for Claude Managed
// Agents, signing every tools/call into a local audit log. See README.md for the step-by-step.
using ManagedAgentBridge;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddSerilog((_, logging) => logging.ReadFrom.Configuration(builder.Configuration));
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(35));
try
{
    var setup = ExampleSetup.From(builder.Configuration.GetSection("Signet"));
    builder.Services.AddSignet().WithKeyFromHome(setup.KeyName, setup.Home, setup.Passphrase).WithAuditLog();
    builder.Services.AddSignetBridge(ExampleSetup.WithAppFolder(builder.Configuration.GetSection("Bridge")), o => o.Token = setup.Token());
    builder.Services.AddHealthChecks();
    await using var app = builder.Build();
    app.MapHealthChecks("/healthz");
    app.MapSignetBridge();   // each backend at /mcp/<name>, behind the bearer token and the Host/Origin checks
    await app.RunAsync();
    return 0;
}
catch (Signet.SignetException e)
{
    // Configuration and key problems: a clear message, no stack trace.
    Console.Error.WriteLine($"ManagedAgentBridge: {e.Message}");
    return 1;
}
