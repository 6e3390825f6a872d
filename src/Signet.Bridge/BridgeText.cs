using System.Text.RegularExpressions;

namespace Signet.Bridge;

/// <summary>Messages that join text from several places (an exception's message, a hint) read as plain sentences.</summary>
internal static partial class BridgeText
{
    /// <summary>
    /// Collapses a doubled sentence end (<c>denied.. Nothing</c>, from a message ending with a period followed by one
    /// more) and drops a trailing period, so messages can be joined with ". " or ": ". An ellipsis is kept.
    /// </summary>
    public static string Sentence(string text) => DoubledPeriod().Replace(text, ".").TrimEnd().TrimEnd('.');

    [GeneratedRegex(@"(?<!\.)\.\.(?=\s|$)")]
    private static partial Regex DoubledPeriod();
}
