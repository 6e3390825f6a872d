using System.Globalization;
using System.Text;

namespace Signet.Transparency;

/// <summary>
/// A C2SP <c>tlog-proof@v1</c> file: optional extra data, the entry's index, its Merkle inclusion proof, and the
/// checkpoint note (with any cosignatures) the proof leads to.
/// </summary>
/// <remarks>Parsing checks the format, and that the index is below the checkpoint's size; verify the checkpoint and the proof before trusting them. The extra data is not authenticated.</remarks>
public sealed class TlogProof
{
    /// <summary>The first line of every proof.</summary>
    public const string Header = "c2sp.org/tlog-proof@v1";

    private const string What = "tlog proof";
    private const int HashSize = 32;
    private const int MaxProofHashes = 64;

    private readonly byte[]? _extra;
    private readonly byte[][] _inclusionProof;

    /// <summary>Creates a proof; the index must be below the checkpoint's size and every hash 32 bytes.</summary>
    public TlogProof(long index, IEnumerable<byte[]> inclusionProof, SignedCheckpoint checkpoint, byte[]? extra = null)
    {
        ArgumentNullException.ThrowIfNull(inclusionProof);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (index >= checkpoint.Checkpoint.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the index is below the checkpoint's size {checkpoint.Checkpoint.Size}");
        }
        _inclusionProof = inclusionProof.Select(h => (byte[])h.Clone()).ToArray();
        if (_inclusionProof.Any(h => h.Length != HashSize) || _inclusionProof.Length > MaxProofHashes)
        {
            throw new ArgumentException($"an inclusion proof is at most {MaxProofHashes} hashes of {HashSize} bytes", nameof(inclusionProof));
        }
        Index = index;
        Checkpoint = checkpoint;
        _extra = extra is null ? null : (byte[])extra.Clone();
    }

    /// <summary>The optional opaque extra data (unauthenticated), or null when the proof has no extra line.</summary>
    public byte[]? Extra => _extra is null ? null : (byte[])_extra.Clone();

    /// <summary>The zero-based index of the entry in the log.</summary>
    public long Index { get; }

    /// <summary>The inclusion proof, from the leaf's sibling up to the root's child (RFC 6962 section 2.1.1).</summary>
    public IReadOnlyList<byte[]> InclusionProof => _inclusionProof.Select(h => (byte[])h.Clone()).ToArray();

    /// <summary>The checkpoint note the proof leads to, as it was written (with its cosignatures).</summary>
    public SignedCheckpoint Checkpoint { get; }

    /// <summary>Parses a proof file; throws <see cref="NoteFormatException"/> naming the line and the problem.</summary>
    public static TlogProof Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        NoteText.CheckCharacters(What, text);
        var position = 0;
        var lineNumber = 0;
        string? NextLine()
        {
            var end = text.IndexOf('\n', position);
            if (end < 0)
            {
                return null;
            }
            lineNumber++;
            var line = text[position..end];
            position = end + 1;
            return line;
        }

        var header = NextLine();
        if (header != Header)
        {
            throw new NoteFormatException(What, 1, header is null
                ? $"the file is empty or truncated; it starts with the line {Header}"
                : $"the first line is {NoteText.Quote(header)}, not {Header}");
        }
        var line = NextLine() ?? throw Truncated(lineNumber + 1, "the index line");
        byte[]? extra = null;
        if (line.StartsWith("extra ", StringComparison.Ordinal))
        {
            var b64 = line["extra ".Length..];
            if (!NoteText.TryDecodeBase64(b64, out var decoded))
            {
                throw new NoteFormatException(What, lineNumber, "the extra data is not standard padded base64");
            }
            extra = decoded;
            line = NextLine() ?? throw Truncated(lineNumber + 1, "the index line");
        }
        if (!line.StartsWith("index ", StringComparison.Ordinal))
        {
            throw new NoteFormatException(What, lineNumber, $"expected \"index <n>\"{(extra is null ? " or \"extra <base64>\"" : "")}, not {NoteText.Quote(line)}");
        }
        if (!NoteText.TryParseDecimal(line["index ".Length..], out var index))
        {
            throw new NoteFormatException(What, lineNumber, $"the index {NoteText.Quote(line["index ".Length..])} is not a decimal number without sign or leading zeros");
        }
        var proof = new List<byte[]>();
        while (true)
        {
            line = NextLine() ?? throw Truncated(lineNumber + 1, "the blank line and the checkpoint");
            if (line.Length == 0)
            {
                break;
            }
            if (proof.Count == MaxProofHashes)
            {
                throw new NoteFormatException(What, lineNumber, $"more than {MaxProofHashes} inclusion proof hashes");
            }
            if (!NoteText.TryDecodeBase64(line, out var hash) || hash.Length != HashSize)
            {
                throw new NoteFormatException(What, lineNumber, $"the inclusion proof hash {NoteText.Quote(line)} is not standard padded base64 of {HashSize} bytes");
            }
            proof.Add(hash);
        }
        if (position == text.Length)
        {
            throw Truncated(lineNumber + 1, "the checkpoint");
        }
        var checkpoint = SignedCheckpoint.Parse(text[position..], lineNumber);
        if (index >= checkpoint.Checkpoint.Size)
        {
            throw new NoteFormatException(What, 0, $"the index {index} is not below the checkpoint's tree size {checkpoint.Checkpoint.Size}");
        }
        return new TlogProof(index, proof, checkpoint, extra);
    }

    /// <summary>The proof file, exactly as written.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        builder.Append(Header).Append('\n');
        if (_extra is not null)
        {
            builder.Append("extra ").Append(Convert.ToBase64String(_extra)).Append('\n');
        }
        builder.Append("index ").Append(Index.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var hash in _inclusionProof)
        {
            builder.Append(Convert.ToBase64String(hash)).Append('\n');
        }
        builder.Append('\n').Append(Checkpoint.ToString());
        return builder.ToString();
    }

    private static NoteFormatException Truncated(int line, string missing) =>
        new(What, line, $"the file ends before {missing} (truncated?)");
}
