namespace Signet.Mcp;

/// <summary>A call (or response) that Signet refused to pass on; the message says why and is shown to the client.</summary>
public sealed class ToolCallRefusedException : SignetException
{
    /// <summary>The JSON-RPC error code used for refused calls: in the implementation-defined server-error range.</summary>
    public const int JsonRpcErrorCode = -32099;

    /// <summary>Creates the exception.</summary>
    public ToolCallRefusedException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public ToolCallRefusedException(string message, Exception innerException) : base(message, innerException) { }
}
