namespace Signet.Transparency;

/// <summary>A checkpoint that did not verify: no valid log signature, a forged signature or cosignature, or too few witnesses.</summary>
public sealed class CheckpointVerificationException : SignetException
{
    /// <summary>Creates the exception with the reason.</summary>
    public CheckpointVerificationException(string message) : base(message) { }
}
