using System.Globalization;
using System.Text;

namespace Signet.Transparency;

/// <summary>
/// The bodies of the C2SP tlog-witness <c>add-checkpoint</c> call: the request (old size line, at most 63 consistency
/// proof lines, a blank line, the checkpoint note), the 200 response (cosignature lines) and the 409 response (the
/// witness's latest size, <c>text/x.tlog.size</c>).
/// </summary>
public static class AddCheckpointRequest
{
    /// <summary>The content type of the 409 Conflict body.</summary>
    public const string SizeContentType = "text/x.tlog.size";

    /// <summary>The most consistency proof lines a request may carry.</summary>
    public const int MaxProofHashes = 63;

    private const string What = "add-checkpoint request";
    private const string ResponseWhat = "add-checkpoint response";
    private const string ConflictWhat = "add-checkpoint 409 body";
    private const int HashSize = 32;

    /// <summary>Writes a request body.</summary>
    public static string Format(long oldSize, IEnumerable<byte[]> consistencyProof, SignedCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(consistencyProof);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        if (oldSize > checkpoint.Checkpoint.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(oldSize), oldSize, $"the old size is at most the checkpoint's size {checkpoint.Checkpoint.Size}");
        }
        var builder = new StringBuilder();
        builder.Append("old ").Append(oldSize.ToString(CultureInfo.InvariantCulture)).Append('\n');
        var count = 0;
        foreach (var hash in consistencyProof)
        {
            if (hash is null || hash.Length != HashSize)
            {
                throw new ArgumentException($"a consistency proof hash is {HashSize} bytes", nameof(consistencyProof));
            }
            if (++count > MaxProofHashes)
            {
                throw new ArgumentException($"a consistency proof has at most {MaxProofHashes} hashes", nameof(consistencyProof));
            }
            builder.Append(Convert.ToBase64String(hash)).Append('\n');
        }
        builder.Append('\n').Append(checkpoint.ToString());
        return builder.ToString();
    }

    /// <summary>
    /// Parses a request body (format only: the witness still verifies the signature and the proof); throws
    /// <see cref="NoteFormatException"/>, a 400 Bad Request, naming the line and the problem.
    /// </summary>
    public static AddCheckpointBody Parse(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        NoteText.CheckCharacters(What, body);
        var end = body.IndexOf('\n');
        if (end < 0)
        {
            throw new NoteFormatException(What, 1, "the body ends before the old size line's newline");
        }
        var first = body[..end];
        if (!first.StartsWith("old ", StringComparison.Ordinal) || !NoteText.TryParseDecimal(first["old ".Length..], out var oldSize))
        {
            throw new NoteFormatException(What, 1, $"the first line is \"old <size>\" (a decimal without leading zeros), not {NoteText.Quote(first)}");
        }
        var position = end + 1;
        var lineNumber = 1;
        var proof = new List<byte[]>();
        while (true)
        {
            end = body.IndexOf('\n', position);
            lineNumber++;
            if (end < 0)
            {
                throw new NoteFormatException(What, lineNumber, "the body ends before the blank line and the checkpoint");
            }
            var line = body[position..end];
            position = end + 1;
            if (line.Length == 0)
            {
                break;
            }
            if (proof.Count == MaxProofHashes)
            {
                throw new NoteFormatException(What, lineNumber, $"more than {MaxProofHashes} consistency proof lines");
            }
            if (!NoteText.TryDecodeBase64(line, out var hash) || hash.Length != HashSize)
            {
                throw new NoteFormatException(What, lineNumber, $"the consistency proof line {NoteText.Quote(line)} is not standard padded base64 of {HashSize} bytes");
            }
            proof.Add(hash);
        }
        if (position == body.Length)
        {
            throw new NoteFormatException(What, lineNumber + 1, "no checkpoint after the blank line");
        }
        var checkpoint = SignedCheckpoint.Parse(body[position..], lineNumber);
        if (oldSize > checkpoint.Checkpoint.Size)
        {
            throw new NoteFormatException(What, 1, $"the old size {oldSize} is larger than the checkpoint's size {checkpoint.Checkpoint.Size}");
        }
        return new AddCheckpointBody(oldSize, proof.ToArray(), checkpoint);
    }

    /// <summary>Writes the 200 response body: one signature line per cosignature, each ending in a newline.</summary>
    public static string FormatResponse(IEnumerable<NoteSignature> cosignatures)
    {
        ArgumentNullException.ThrowIfNull(cosignatures);
        var builder = new StringBuilder();
        foreach (var signature in cosignatures)
        {
            builder.Append(signature.ToLine()).Append('\n');
        }
        if (builder.Length == 0)
        {
            throw new ArgumentException("a response carries at least one cosignature", nameof(cosignatures));
        }
        return builder.ToString();
    }

    /// <summary>Parses the 200 response body into its signature lines (verify them against the checkpoint before use).</summary>
    public static IReadOnlyList<NoteSignature> ParseResponse(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        NoteText.CheckCharacters(ResponseWhat, body);
        if (body.Length == 0)
        {
            throw new NoteFormatException(ResponseWhat, 0, "the body is empty; it should hold at least one cosignature line");
        }
        if (body[^1] != '\n')
        {
            throw new NoteFormatException(ResponseWhat, body.AsSpan().Count('\n') + 1, "the last line does not end in a newline (truncated?)");
        }
        var lines = NoteText.Lines(body);
        if (lines.Length > NoteText.MaxSignatures)
        {
            throw new NoteFormatException(ResponseWhat, NoteText.MaxSignatures + 1, $"more than {NoteText.MaxSignatures} signature lines");
        }
        return lines.Select((line, i) => NoteSignature.ParseLine(line, ResponseWhat, i + 1)).ToArray();
    }

    /// <summary>Writes the 409 Conflict body: the witness's latest cosigned size and a newline.</summary>
    public static string FormatConflict(long latestSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(latestSize);
        return latestSize.ToString(CultureInfo.InvariantCulture) + "\n";
    }

    /// <summary>Parses the 409 Conflict body into the witness's latest cosigned size.</summary>
    public static long ParseConflict(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (body.Length == 0 || body[^1] != '\n' || !NoteText.TryParseDecimal(body[..^1], out var size))
        {
            throw new NoteFormatException(ConflictWhat, 1, $"the body is a tree size in decimal and a newline, not {NoteText.Quote(body.Replace("\n", "\\n"))}");
        }
        return size;
    }
}
