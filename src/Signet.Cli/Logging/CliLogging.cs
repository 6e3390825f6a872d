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
    /// <remarks>With <paramref name="logFile"/>, the same events are also appended to that file, with timestamps.</remarks>
    public static ILoggerFactory CreateStderrFactory(TextWriter stderr, string prefix, bool verbose, string? logFile = null)
    {
        var level = verbose ? LogEventLevel.Verbose : LogEventLevel.Information;
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .MinimumLevel.Override("ModelContextProtocol", verbose ? LogEventLevel.Verbose : LogEventLevel.Warning)
            .WriteTo.Sink(new TextWriterSink(stderr, prefix + ": [{Level:u3}] {Message:lj}{NewLine}{Exception}"));
        if (!string.IsNullOrEmpty(logFile))
        {
            StreamWriter file;
            try
            {
                file = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SignetException($"cannot open the log file {logFile}: {e.Message}", e);
            }
            configuration = configuration.WriteTo.Sink(new TextWriterSink(file, "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} " + prefix + ": [{Level:u3}] {Message:lj}{NewLine}{Exception}", ownsWriter: true));
        }
        return new SerilogLoggerFactory(configuration.CreateLogger(), dispose: true);
    }

    /// <summary>Writes Serilog events to a <see cref="TextWriter"/>, one flushed line each.</summary>
    private sealed class TextWriterSink(TextWriter writer, string outputTemplate, bool ownsWriter = false) : ILogEventSink, IDisposable
    {
        public void Dispose()
        {
            if (ownsWriter)
            {
                writer.Dispose();
            }
        }

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
