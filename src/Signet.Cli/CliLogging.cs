using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Signet.Cli;

/// <summary>
/// Operator logs for long-running commands: one line per event to stderr and, optionally, to a file.
/// Never stdout, which carries only protocol in proxy mode.
/// </summary>
internal sealed class CliLogging : ILoggerFactory, ILoggerProvider
{
    private readonly TextWriter _error;
    private readonly StreamWriter? _file;
    private readonly LogLevel _minimum;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    private CliLogging(TextWriter error, StreamWriter? file, LogLevel minimum, TimeProvider time)
    {
        _error = error;
        _file = file;
        _minimum = minimum;
        _time = time;
    }

    /// <summary>Logs at <paramref name="minimum"/> and above to <paramref name="error"/> and, when given, appended to <paramref name="logFile"/>.</summary>
    public static CliLogging Create(TextWriter error, string? logFile, LogLevel minimum, TimeProvider time)
    {
        StreamWriter? file = null;
        if (!string.IsNullOrEmpty(logFile))
        {
            try
            {
                file = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SignetException($"cannot open the log file {logFile}: {e.Message}", e);
            }
        }
        return new CliLogging(error, file, minimum, time);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose() => _file?.Dispose();

    private void Write(LogLevel level, string message, Exception? exception)
    {
        var stamp = _time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var line = $"{stamp} {Label(level)} {message}";
        if (exception is not null)
        {
            line += Environment.NewLine + exception;
        }
        lock (_lock)
        {
            _error.WriteLine(line);
            _error.Flush();
            _file?.WriteLine(line);
        }
    }

    private static string Label(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

    private sealed class Logger(CliLogging owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Write(logLevel, formatter(state, exception), exception);
            }
        }
    }
}
