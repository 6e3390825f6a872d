using System.Text;

namespace Signet.Transparency;

/// <summary>A C2SP signed note: a text ending in a newline, a blank line, and one or more signature lines.</summary>
/// <remarks>
/// Parsing checks the format only; a note's text must not be trusted until a signature from a trusted key verifies
/// (<see cref="SignedCheckpoint.Verify"/> for checkpoints).
/// </remarks>
public sealed class SignedNote
{
    private const string What = "signed note";

    private readonly NoteSignature[] _signatures;

    /// <summary>Creates a note from its text (ending in a newline) and at least one signature.</summary>
    public SignedNote(string text, IEnumerable<NoteSignature> signatures)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(signatures);
        var problem = TextProblem(text, out var line);
        if (problem is not null)
        {
            throw new ArgumentException($"invalid note text: line {line}: {problem}", nameof(text));
        }
        _signatures = Distinct(signatures).ToArray();
        if (_signatures.Length == 0)
        {
            throw new ArgumentException("a signed note has at least one signature", nameof(signatures));
        }
        if (_signatures.Length > NoteText.MaxSignatures)
        {
            throw new ArgumentException($"a signed note has at most {NoteText.MaxSignatures} signatures, not {_signatures.Length}", nameof(signatures));
        }
        Text = text;
    }

    private SignedNote(string text, NoteSignature[] signatures)
    {
        Text = text;
        _signatures = signatures;
    }

    /// <summary>The note text, including its final newline (the bytes every signature covers).</summary>
    public string Text { get; }

    /// <summary>The signatures, in note order, without duplicates.</summary>
    public IReadOnlyList<NoteSignature> Signatures => _signatures;

    /// <summary>Parses a signed note; throws <see cref="NoteFormatException"/> naming the line and the problem.</summary>
    public static SignedNote Parse(string note) => Parse(note, What, 0);

    internal static SignedNote Parse(string note, string what, int lineOffset)
    {
        ArgumentNullException.ThrowIfNull(note);
        NoteText.CheckCharacters(what, note, lineOffset);
        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw new NoteFormatException(what, 0, "no blank line before the signature lines");
        }
        var text = note[..(split + 1)];
        var signatureBlock = note[(split + 2)..];
        var firstSignatureLine = lineOffset + CountLines(text) + 2;
        if (signatureBlock.Length == 0)
        {
            throw new NoteFormatException(what, firstSignatureLine, "no signature lines after the blank line");
        }
        if (signatureBlock[^1] != '\n')
        {
            throw new NoteFormatException(what, firstSignatureLine + CountLines(signatureBlock), "the last signature line does not end in a newline");
        }
        var lines = NoteText.Lines(signatureBlock);
        if (lines.Length > NoteText.MaxSignatures)
        {
            throw new NoteFormatException(what, firstSignatureLine + NoteText.MaxSignatures, $"more than {NoteText.MaxSignatures} signatures");
        }
        var signatures = new List<NoteSignature>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            signatures.Add(NoteSignature.ParseLine(lines[i], what, firstSignatureLine + i));
        }
        return new SignedNote(text, Distinct(signatures).ToArray());
    }

    /// <summary>This note with the given signatures added after its own; identical signatures appear once.</summary>
    public SignedNote WithSignatures(IEnumerable<NoteSignature> added)
    {
        ArgumentNullException.ThrowIfNull(added);
        return new SignedNote(Text, _signatures.Concat(added));
    }

    /// <summary>The note exactly as it is written: the text, a blank line, one line per signature.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder(Text.Length + 1 + _signatures.Length * 100);
        builder.Append(Text).Append('\n');
        foreach (var signature in _signatures)
        {
            builder.Append(signature.ToLine()).Append('\n');
        }
        return builder.ToString();
    }

    /// <summary>Why a text cannot be a note text (the first problem and its one-based line), or null.</summary>
    internal static string? TextProblem(string text, out int line)
    {
        line = 0;
        if (text.Length == 0 || text[^1] != '\n')
        {
            line = text.Length == 0 ? 1 : CountLines(text) + 1;
            return "the text does not end in a newline";
        }
        if (Encoding.UTF8.GetByteCount(text) > NoteText.MaxNoteBytes)
        {
            line = 1;
            return $"longer than {NoteText.MaxNoteBytes} bytes";
        }
        return NoteText.FindForbiddenCharacter(text, out line);
    }

    private static int CountLines(string text) => text.AsSpan().Count('\n');

    private static IEnumerable<NoteSignature> Distinct(IEnumerable<NoteSignature> signatures)
    {
        var seen = new HashSet<NoteSignature>();
        foreach (var signature in signatures)
        {
            ArgumentNullException.ThrowIfNull(signature);
            if (seen.Add(signature))
            {
                yield return signature;
            }
        }
    }
}
