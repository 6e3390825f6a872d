namespace Signet.Transparency;

/// <summary>
/// Text in one of the transparency formats (signed note, checkpoint, tlog-proof, add-checkpoint body, witness policy)
/// that does not follow its specification, with the line and the reason.
/// </summary>
public sealed class NoteFormatException : SignetException
{
    /// <summary>Creates the exception for a problem on a one-based line (0 when it concerns the text as a whole).</summary>
    public NoteFormatException(string what, int line, string reason)
        : base(line > 0 ? $"invalid {what}: line {line}: {reason}" : $"invalid {what}: {reason}")
    {
        What = what;
        Line = line;
        Reason = reason;
    }

    /// <summary>The kind of text being read, e.g. <c>signed note</c> or <c>checkpoint</c>.</summary>
    public string What { get; }

    /// <summary>The one-based line of the problem, or 0 when it concerns the text as a whole.</summary>
    public int Line { get; }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }
}
