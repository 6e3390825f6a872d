using System.Globalization;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Extensions.Logging;

namespace Signet.Cli.Logging;

/// <summary>Operator logs for long-running commands: one line per event on the command's stderr, never stdout.</summary>
internal static class CliLogging
{
    /// <summary>
    /// A logger factory writing to <paramref name="stderr"/> with lines prefixed by <paramref name="prefix"/>. The MCP SDK's own
    /// categories log warnings and errors only, unless <paramref name="verbose"/> (then everything, payloads included).
    /// </summary>
    public static ILoggerFactory CreateStderrFactory(TextWriter stderr, string prefix, bool verbose)
    {
        var level = verbose ? LogEventLevel.Verbose : LogEventLevel.Information;
        var logger = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .MinimumLevel.Override("ModelContextProtocol", verbose ? LogEventLevel.Verbose : LogEventLevel.Warning)
            .WriteTo.Sink(new TextWriterSink(stderr, prefix + ": [{Level:u3}] {Message:lj}{NewLine}{Exception}"))
            .CreateLogger();
        return new SerilogLoggerFactory(logger, dispose: true);
    }

    /// <summary>Writes Serilog events to a <see cref="TextWriter"/>, one flushed line each.</summary>
    private sealed class TextWriterSink(TextWriter writer, string outputTemplate) : ILogEventSink
    {
        private readonly MessageTemplateTextFormatter formatter = new(outputTemplate, CultureInfo.InvariantCulture);
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
}
