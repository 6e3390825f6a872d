using Microsoft.Extensions.Logging;

namespace Signet.Bridge;

/// <summary>
/// The logger factory the bridge gives its recorders. The bridge logs every refusal itself, in one line and without a
/// stack trace, so the engine's own report of a refusal (its <c>LogRefused</c> event) is not repeated.
/// </summary>
internal sealed class BridgeReportsRefusals(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Filter(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The factory belongs to the caller.
    }

    private sealed class Filter(ILogger logger) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name != "LogRefused")
            {
                logger.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
