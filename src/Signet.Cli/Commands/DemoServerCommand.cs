using System.CommandLine;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Extensions.Logging;
using Signet.Mcp.Demo;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet demo-server</c> (hidden): the bundled demo MCP tool server on stdio, which <c>signet demo</c>, the examples
/// and the tests run as a child process. stdout carries only the protocol; logs go to stderr.
/// </summary>
internal static class DemoServerCommand
{
    public static Command Create(CliConsole console)
    {
        var verbose = new Option<bool>("--verbose") { Description = "Log every message, including tool arguments, to stderr" };
        var command = new Command("demo-server", "Run the bundled demo MCP tool server on stdio (used by 'signet demo' and the examples)")
        {
            verbose,
        };
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            var level = parse.GetValue(verbose) ? LogEventLevel.Verbose : LogEventLevel.Information;
            using var serilog = new LoggerConfiguration()
                .MinimumLevel.Is(level)
                .MinimumLevel.Override("ModelContextProtocol", parse.GetValue(verbose) ? LogEventLevel.Verbose : LogEventLevel.Warning)
                .WriteTo.Sink(new TextWriterSink(console.Error, "signet demo-server: [{Level:u3}] {Message:lj}{NewLine}{Exception}"))
                .CreateLogger();
            using var loggerFactory = new SerilogLoggerFactory(serilog);
            await DemoServer.RunStdioAsync(loggerFactory, console.Time, ct);
            return SignetCli.Ok;
        });
        return command;
    }
}

/// <summary>Writes Serilog events to a <see cref="TextWriter"/> (the command's stderr), one flushed line each.</summary>
internal sealed class TextWriterSink(TextWriter writer, string outputTemplate) : ILogEventSink
{
    private readonly MessageTemplateTextFormatter formatter = new(outputTemplate, System.Globalization.CultureInfo.InvariantCulture);
    private readonly Lock gate = new();

    public void Emit(LogEvent logEvent)
    {
        lock (gate)
        {
            formatter.Format(logEvent, writer);
            writer.Flush();
        }
    }
}
