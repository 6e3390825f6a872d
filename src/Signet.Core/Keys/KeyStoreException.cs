namespace Signet.Keys;

/// <summary>A key could not be created, found, read or unlocked; the message names the file and what to do.</summary>
public sealed class KeyStoreException : SignetException
{
    /// <summary>Creates the exception; <paramref name="filePath"/> is the file concerned, when there is one.</summary>
    public KeyStoreException(string message, string? filePath = null) : base(message)
    {
        FilePath = filePath;
    }

    /// <summary>Creates the exception with the underlying cause.</summary>
    public KeyStoreException(string message, string? filePath, Exception innerException) : base(message, innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The key, public key or passphrase file concerned, if any.</summary>
    public string? FilePath { get; }
}
