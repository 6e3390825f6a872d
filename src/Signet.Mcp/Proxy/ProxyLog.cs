using Microsoft.Extensions.Logging;

namespace Signet.Mcp.Proxy;

/// <summary>The proxy's operator log events (stderr or a file; never stdout, never payloads above Trace).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(6, LogLevel.Warning, "a server message longer than {MaxLineBytes} bytes is forwarded without inspection")]
    public static partial void OversizedServerLine(ILogger logger, int maxLineBytes);

    [LoggerMessage(8, LogLevel.Warning, "the server's input is closed: {Reason}")]
    public static partial void ServerInputClosed(ILogger logger, string reason);

    [LoggerMessage(9, LogLevel.Information, "started {Command} (pid {Pid})")]
    public static partial void ChildStarted(ILogger logger, string command, int pid);

    [LoggerMessage(10, LogLevel.Information, "{Command} exited with code {ExitCode}")]
    public static partial void ChildExited(ILogger logger, string command, int exitCode);

    [LoggerMessage(11, LogLevel.Warning, "{Command} did not exit within {Timeout}; killing its process tree")]
    public static partial void ChildKilled(ILogger logger, string command, TimeSpan timeout);

    [LoggerMessage(14, LogLevel.Warning, "a server line that may answer a call could not be read; it is forwarded unchanged: {Reason}")]
    public static partial void ServerLineUnreadable(ILogger logger, string reason);

    [LoggerMessage(12, LogLevel.Information, "received {Signal}; passing it on to {Command}")]
    public static partial void SignalForwarded(ILogger logger, string signal, string command);
}
