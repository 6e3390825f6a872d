using System.Globalization;
using System.Text;

namespace Signet.Transparency;

/// <summary>
/// The body of a C2SP checkpoint (tlog-checkpoint): the log's origin, the tree size, the base64 RFC 6962 root hash,
/// then optional non-empty extension lines.
/// </summary>
public sealed class Checkpoint
{
    private const string What = "checkpoint";
    private const int HashSize = 32;

    private readonly byte[] _rootHash;
    private readonly string[] _extensions;

    /// <summary>Creates a checkpoint; the origin and extension lines must be non-empty single lines.</summary>
    public Checkpoint(string origin, long size, ReadOnlySpan<byte> rootHash, IEnumerable<string>? extensions = null)
    {
        ArgumentNullException.ThrowIfNull(origin);
        if (LineProblem(origin) is { } originProblem)
        {
            throw new ArgumentException($"the origin {originProblem}", nameof(origin));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (rootHash.Length != HashSize)
        {
            throw new ArgumentException($"the root hash is {HashSize} bytes, not {rootHash.Length}", nameof(rootHash));
        }
        _extensions = extensions?.ToArray() ?? [];
        foreach (var extension in _extensions)
        {
            if (LineProblem(extension) is { } problem)
            {
                throw new ArgumentException($"an extension line {problem}", nameof(extensions));
            }
        }
        Origin = origin;
        Size = size;
        _rootHash = rootHash.ToArray();
    }

    /// <summary>The log's identity, the first line.</summary>
    public string Origin { get; }

    /// <summary>The number of leaves in the tree.</summary>
    public long Size { get; }

    /// <summary>The 32-byte Merkle tree root at <see cref="Size"/> (a copy).</summary>
    public byte[] RootHash => (byte[])_rootHash.Clone();

    /// <summary>The extension lines after the root hash (usually none).</summary>
    public IReadOnlyList<string> Extensions => _extensions;

    /// <summary>Parses a checkpoint body (the note text, ending in a newline); throws <see cref="NoteFormatException"/> naming the line.</summary>
    public static Checkpoint Parse(string text) => Parse(text, 0);

    internal static Checkpoint Parse(string text, int lineOffset)
    {
        ArgumentNullException.ThrowIfNull(text);
        NoteText.CheckCharacters(What, text, lineOffset);
        if (text.Length == 0 || text[^1] != '\n')
        {
            throw new NoteFormatException(What, lineOffset + text.AsSpan().Count('\n') + 1, "the text does not end in a newline");
        }
        var lines = NoteText.Lines(text);
        if (lines.Length < 3)
        {
            throw new NoteFormatException(What, lineOffset + lines.Length + 1,
                "a checkpoint has at least three lines: origin, tree size, root hash");
        }
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                var name = i switch { 0 => "origin", 1 => "tree size", 2 => "root hash", _ => "extension line" };
                throw new NoteFormatException(What, lineOffset + i + 1, $"the {name} is empty");
            }
        }
        if (!NoteText.TryParseDecimal(lines[1], out var size))
        {
            throw new NoteFormatException(What, lineOffset + 2,
                $"the tree size {NoteText.Quote(lines[1])} is not a decimal number without sign or leading zeros");
        }
        if (!NoteText.TryDecodeBase64(lines[2], out var root) || root.Length != HashSize)
        {
            throw new NoteFormatException(What, lineOffset + 3,
                $"the root hash {NoteText.Quote(lines[2])} is not standard padded base64 of {HashSize} bytes");
        }
        return new Checkpoint(lines[0], size, root, lines[3..]);
    }

    /// <summary>The checkpoint body: one line each for origin, size, root hash and extensions, each ending in a newline.</summary>
    public string ToText()
    {
        var builder = new StringBuilder();
        builder.Append(Origin).Append('\n')
            .Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Convert.ToBase64String(_rootHash)).Append('\n');
        foreach (var extension in _extensions)
        {
            builder.Append(extension).Append('\n');
        }
        return builder.ToString();
    }

    /// <summary>The body, as <see cref="ToText"/>.</summary>
    public override string ToString() => ToText();

    private static string? LineProblem(string line)
    {
        if (line.Length == 0)
        {
            return "is empty";
        }
        if (line.Contains('\n'))
        {
            return $"{NoteText.Quote(line.Replace('\n', ' '))} has a newline";
        }
        return NoteText.FindForbiddenCharacter(line, out _) is { } problem ? $"{NoteText.Quote(line)} has a {problem}" : null;
    }
}
