using System.Text;

namespace Signet.Bridge.Hosting;

/// <summary>
/// The command line for <c>cmd.exe /d /s /c "…"</c>. cmd.exe resolves <c>npx.cmd</c>, <c>node.cmd</c> and other
/// shims that CreateProcess cannot run, but it reads the line twice: once itself (where <c>&amp; | &lt; &gt; ^ ( ) %
/// !</c> and quotes are operators unless escaped with <c>^</c>) and once in the program (the MSVCRT argument rules).
/// So each argument is first quoted for the program, then every cmd.exe metacharacter, the quotes included, is escaped.
/// </summary>
internal static class WindowsCommandLine
{
    private const string MetaCharacters = "()[]%!^\"`<>&|;, *?";

    /// <summary>The arguments for <c>cmd.exe</c>: <c>/d /s /c "COMMAND ARGS…"</c>, to be passed verbatim.</summary>
    public static string For(string command, IReadOnlyList<string> arguments)
    {
        var line = new StringBuilder();
        line.Append("/d /s /c \"");
        EscapeMeta(line, command);
        foreach (var argument in arguments)
        {
            line.Append(' ');
            EscapeMeta(line, QuoteForProgram(argument));
        }
        line.Append('"');
        return line.ToString();
    }

    /// <summary>Quotes an argument so that a program's MSVCRT parser reads it back unchanged.</summary>
    internal static string QuoteForProgram(string argument)
    {
        var quoted = new StringBuilder(argument.Length + 2);
        quoted.Append('"');
        var backslashes = 0;
        foreach (var c in argument)
        {
            if (c == '\\')
            {
                backslashes++;
                continue;
            }
            // Backslashes are literal unless a quote follows: then each is doubled and the quote escaped.
            quoted.Append('\\', c == '"' ? backslashes * 2 + 1 : backslashes);
            backslashes = 0;
            quoted.Append(c);
        }
        // Before the closing quote, trailing backslashes are doubled so that they do not escape it.
        quoted.Append('\\', backslashes * 2);
        quoted.Append('"');
        return quoted.ToString();
    }

    private static void EscapeMeta(StringBuilder line, string text)
    {
        foreach (var c in text)
        {
            if (MetaCharacters.Contains(c, StringComparison.Ordinal))
            {
                line.Append('^');
            }
            line.Append(c);
        }
    }
}
