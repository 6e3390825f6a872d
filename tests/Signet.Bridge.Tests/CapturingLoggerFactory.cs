using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Signet.Bridge.Tests;

/// <summary>Keeps every log entry (level, category, message, exception) for assertions.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    /// <summary>The entries whose message contains <paramref name="text"/>.</summary>
    public List<(LogLevel Level, string Category, string Message, Exception? Exception)> Containing(string text) =>
        Entries.Where(e => e.Message.Contains(text, StringComparison.Ordinal)).ToList();

    private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Entries.Enqueue((logLevel, category, formatter(state, exception), exception));
            }
        }
    }
}
