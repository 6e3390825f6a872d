using Microsoft.Extensions.Logging;

namespace Signet.Mcp.Recording;

/// <summary>Calls the user's <see cref="SignetOptions.OnReceipt"/> and <see cref="SignetOptions.OnError"/>: a callback that throws is logged, never propagated.</summary>
internal static partial class Callbacks
{
    public static void Invoke<T>(Action<T>? callback, T value, ILogger logger, string name)
    {
        if (callback is null)
        {
            return;
        }
        try
        {
            callback(value);
        }
        catch (Exception e)
        {
            LogCallbackFailed(logger, e, name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Callback} callback threw; recording continues")]
    private static partial void LogCallbackFailed(ILogger logger, Exception exception, string callback);
}
