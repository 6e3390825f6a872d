using Microsoft.Extensions.Logging;

namespace Signet.Mcp.Proxy;

/// <summary>The proxy's operator log events (stderr or a file; never stdout, never payloads above Trace).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(1, LogLevel.Warning, "refused tools/call {CallId}: {Cause}")]
    public static partial void CallRefused(ILogger logger, string callId, string cause);

    [LoggerMessage(2, LogLevel.Critical, "FAIL-OPEN: tools/call {CallId} forwarded WITHOUT a receipt: {Cause}")]
    public static partial void ForwardedUnsigned(ILogger logger, string callId, string cause);

    [LoggerMessage(3, LogLevel.Error, "response to {CallId} withheld; the client gets an error instead: {Cause}")]
    public static partial void ResponseRefused(ILogger logger, string callId, string cause);

    [LoggerMessage(4, LogLevel.Critical, "FAIL-OPEN: response to {CallId} delivered although it was refused: {Cause}")]
    public static partial void DeliveredRefusedResponse(ILogger logger, string callId, string cause);

    [LoggerMessage(5, LogLevel.Error, "the response to {CallId} was delivered but could not be recorded: {Cause}")]
    public static partial void ResponseNotRecorded(ILogger logger, string callId, string cause);

    [LoggerMessage(6, LogLevel.Warning, "a server message longer than {MaxLineBytes} bytes is forwarded without inspection")]
    public static partial void OversizedServerLine(ILogger logger, int maxLineBytes);

    [LoggerMessage(7, LogLevel.Error, "call {CallId} answered with an error: {Cause}")]
    public static partial void PendingFailed(ILogger logger, string callId, string cause);

    [LoggerMessage(8, LogLevel.Warning, "the server's input is closed: {Reason}")]
    public static partial void ServerInputClosed(ILogger logger, string reason);



    [LoggerMessage(13, LogLevel.Warning, "dropped a tools/call sent as a notification (no id, so no error can be returned): {Cause}")]
    public static partial void NotificationCallDropped(ILogger logger, string cause);

    [LoggerMessage(14, LogLevel.Warning, "a server line that may answer a call could not be read; it is forwarded unchanged: {Reason}")]
    public static partial void ServerLineUnreadable(ILogger logger, string reason);

    [LoggerMessage(15, LogLevel.Error, "a refused tools/call could not be recorded: {Reason}")]
    public static partial void RefusalNotRecorded(ILogger logger, string reason);
}
