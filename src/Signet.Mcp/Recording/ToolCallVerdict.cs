namespace Signet.Mcp.Recording;

/// <summary>What an adapter does with a <c>tools/call</c> the session has looked at.</summary>
public enum ToolCallVerdict
{
    /// <summary>
    /// Send the call as it now is: its <c>params._meta</c> carries its receipt (or, under fail-open when signing failed,
    /// no longer carries an earlier attempt's). Call <see cref="ToolCallSession.Forwarded"/> before it goes.
    /// </summary>
    Forward,

    /// <summary>Send the call exactly as it came, unsigned: fail-open let it through, and the session has logged the <c>FAIL-OPEN</c> line.</summary>
    ForwardAsSent,

    /// <summary>Do not send it; answer the client with <see cref="ToolCallStart.Error"/> under the call's id as sent.</summary>
    Refuse,

    /// <summary>Do not send it, and answer nothing: the call had no id (it was sent as a notification), so no answer can reach the client.</summary>
    Drop,
}
