namespace Signet.Audit;

/// <summary>The log writer refuses appends after a write or fsync error; this names the original cause.</summary>
public sealed class AuditLogFailedException : SignetException
{
    /// <summary>Creates the exception.</summary>
    public AuditLogFailedException(string message, Exception? cause)
        : base(message, cause ?? new InvalidOperationException(message))
    {
    }
}
