namespace Signet.Mcp;

/// <summary>Joins messages that come from elsewhere (exceptions) into Signet's own sentences.</summary>
internal static class Sentences
{
    /// <summary>
    /// The text on one line (an exception message can span several) and without its closing period, so that it can be
    /// followed by ". " without doubling it.
    /// </summary>
    public static string Clause(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.');
}
