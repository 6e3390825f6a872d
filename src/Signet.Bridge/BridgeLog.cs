using Microsoft.Extensions.Logging;

namespace Signet.Bridge;

/// <summary>The bridge's log events. Tokens, arguments and results never appear; payloads only at Trace.</summary>
internal static partial class BridgeLog
{
    [LoggerMessage(1, LogLevel.Information, "Bridge listening on {Address}; backend '{Backend}' at {Path}")]
    public static partial void Listening(ILogger logger, string address, string backend, string path);

    [LoggerMessage(2, LogLevel.Information, "Session {Session} opened for backend '{Backend}' (child process {Pid})")]
    public static partial void SessionOpened(ILogger logger, string session, string backend, int pid);

    [LoggerMessage(3, LogLevel.Information, "Session {Session} of backend '{Backend}' ended: {Reason}")]
    public static partial void SessionEnded(ILogger logger, string session, string backend, string reason);

    [LoggerMessage(6, LogLevel.Warning, "Request refused with {Status} from {Remote}: {Reason}")]
    public static partial void Refused(ILogger logger, int status, string? remote, string reason);

    [LoggerMessage(8, LogLevel.Warning, "Backend '{Backend}' (session {Session}) wrote a line that cannot be read ({Problem}); dropped")]
    public static partial void BadBackendLine(ILogger logger, string backend, string? session, string problem);

    [LoggerMessage(9, LogLevel.Trace, "Session {Session} {Direction}: {Payload}")]
    public static partial void PayloadSensitive(ILogger logger, string? session, string direction, string payload);

    [LoggerMessage(10, LogLevel.Warning, "Session {Session}: no stream open for a server message; oldest backlog message dropped")]
    public static partial void BacklogDropped(ILogger logger, string session);

    [LoggerMessage(11, LogLevel.Warning, "Session limit ({Limit}) reached; evicted idle session {Session}")]
    public static partial void Evicted(ILogger logger, int limit, string session);

    [LoggerMessage(12, LogLevel.Information, "Bridge stopping: finishing calls in flight and ending {Count} sessions")]
    public static partial void Stopping(ILogger logger, int count);


    [LoggerMessage(18, LogLevel.Warning, "Backend '{Backend}' (session {Session}) answered {CallId} with a line that cannot be read ({Problem}); the client gets an error instead")]
    public static partial void BadBackendAnswer(ILogger logger, string backend, string? session, string callId, string problem);

    [LoggerMessage(19, LogLevel.Debug, "Session {Session}: {CallId} cancelled by the client; its answer is no longer awaited")]
    public static partial void Cancelled(ILogger logger, string session, string callId);

    [LoggerMessage(14, LogLevel.Warning, "Authentication is DISABLED for this loopback-only run (test mode); never use this in production")]
    public static partial void AuthDisabled(ILogger logger);

    [LoggerMessage(20, LogLevel.Error, "The bridge has no bearer token and its endpoint no authorization policy: every request is refused. Set BridgeOptions.Token, or call RequireAuthorization() on MapSignetBridge()")]
    public static partial void Unprotected(ILogger logger);
}
