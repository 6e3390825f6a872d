namespace Signet.Transparency;

/// <summary>An inclusion or consistency proof that does not verify; the message says what failed.</summary>
public sealed class ProofException : SignetException
{
    /// <summary>Creates the exception with a message naming what failed.</summary>
    public ProofException(string message) : base(message) { }
}
