using Microsoft.Extensions.Logging;

namespace Signet.Bridge.Hosting;

/// <summary>The log events of a hosted child process (never its stdout, which is the protocol).</summary>
internal static partial class ChildProcessLog
{
    [LoggerMessage(101, LogLevel.Information, "started {Command} (pid {Pid})")]
    public static partial void Started(ILogger logger, string command, int pid);

    [LoggerMessage(102, LogLevel.Information, "{Command} exited with code {ExitCode}")]
    public static partial void Exited(ILogger logger, string command, int exitCode);

    [LoggerMessage(103, LogLevel.Warning, "{Command} did not exit within {Timeout}; killing its process tree")]
    public static partial void Killed(ILogger logger, string command, TimeSpan timeout);

    [LoggerMessage(104, LogLevel.Information, "received {Signal}; passing it on to {Command}")]
    public static partial void SignalForwarded(ILogger logger, string signal, string command);

    [LoggerMessage(105, LogLevel.Debug, "{Label} stderr: {Line}")]
    public static partial void StandardErrorLine(ILogger logger, string label, string line);

    [LoggerMessage(106, LogLevel.Warning, "could not kill process {Pid} of {Label}: {Reason}")]
    public static partial void KillFailed(ILogger logger, string label, int pid, string reason);
}
