using Microsoft.Extensions.Logging;

namespace Signet.Cli.Proxy;

/// <summary>The proxy's operator log events (stderr or a file; never stdout, never payloads above Trace).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(6, LogLevel.Warning, "a server message longer than {MaxLineBytes} bytes is forwarded without inspection")]
    public static partial void OversizedServerLine(ILogger logger, int maxLineBytes);

    [LoggerMessage(8, LogLevel.Warning, "the server's input is closed: {Reason}")]
    public static partial void ServerInputClosed(ILogger logger, string reason);

    [LoggerMessage(14, LogLevel.Warning, "a server line that may answer a call could not be read; it is forwarded unchanged: {Reason}")]
    public static partial void ServerLineUnreadable(ILogger logger, string reason);
}
