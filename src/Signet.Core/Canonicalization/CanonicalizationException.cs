namespace Signet.Canonicalization;

/// <summary>A JSON value that has no RFC 8785 canonical form under the reference Signet's rules.</summary>
public sealed class CanonicalizationException : SignetException
{
    /// <summary>Creates the exception.</summary>
    public CanonicalizationException(string message, string path) : base(message) => Path = path;

    /// <summary>The JSON path of the offending value.</summary>
    public string Path { get; }
}
