namespace Signet.Mcp;

/// <summary>Joins messages that come from elsewhere (exceptions) into Signet's own sentences.</summary>
internal static class Sentences
{
    /// <summary>The text without its closing period, so that it can be followed by ". " or ":" without doubling it.</summary>
    public static string Clause(string text) => text.TrimEnd().TrimEnd('.');
}
