namespace Signet.Trust;

/// <summary>A trust bundle that cannot be read or written; the message names the file, the section, the entry and the field.</summary>
public sealed class TrustBundleException : SignetException
{
    /// <summary>Creates the exception.</summary>
    public TrustBundleException(string message, string? filePath = null) : base(message)
    {
        FilePath = filePath;
    }

    /// <summary>Creates the exception with its cause.</summary>
    public TrustBundleException(string message, string? filePath, Exception innerException) : base(message, innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The bundle file, when there is one.</summary>
    public string? FilePath { get; }
}
