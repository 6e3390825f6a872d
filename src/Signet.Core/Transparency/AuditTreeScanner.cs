using System.Security.Cryptography;
using Signet.Audit;

namespace Signet.Transparency;

/// <summary>A place in the day files: a day-file name (null: before the first one), a byte offset and the lines before it.</summary>
internal readonly record struct TreePosition(string? File, long Offset, long Line);

/// <summary>Where a leaf's line is: day-file name, byte offset, length without the newline, 1-based line number.</summary>
internal readonly record struct TreeLeaf(string File, long Offset, int Length, long Line)
{
    public TreePosition After => new(File, Offset + Length + 1, Line);

    public TreePosition Before => new(File, Offset, Line - 1);
}

/// <summary>Where a scan ended, and why.</summary>
internal readonly record struct TreeScanEnd(TreePosition Position, bool Stale, string? StopFile, long StopLine, string? StopReason);

/// <summary>
/// Reads the leaves of the tree from the day files: every complete (newline-ended), non-blank line, in chain order,
/// stopping before a complete line that is not a JSON object.
/// </summary>
internal static class AuditTreeScanner
{
    /// <summary>Called per leaf with its hash, its bytes and its place; false stops the scan after it.</summary>
    public delegate bool LeafHandler(ReadOnlySpan<byte> leafHash, ReadOnlySpan<byte> line, in TreeLeaf leaf);

    /// <summary>
    /// Scans from <paramref name="from"/> to the end of the newest day file. Stale when the position's file is gone
    /// or shorter than the position.
    /// </summary>
    public static TreeScanEnd Scan(string directory, TreePosition from, LeafHandler onLeaf)
    {
        var files = AuditRecordFormat.ChainFiles(directory);
        if (files.Length == 0)
        {
            return new TreeScanEnd(from, from.File is not null, null, 0, null);
        }
        var names = Array.ConvertAll(files, f => Path.GetFileName(f));
        int i;
        long offset;
        long line;
        if (from.File is null)
        {
            (i, offset, line) = (0, 0, 0);
        }
        else
        {
            i = Array.IndexOf(names, from.File);
            if (i < 0)
            {
                return new TreeScanEnd(from, true, null, 0, null);
            }
            (offset, line) = (from.Offset, from.Line);
        }

        var buffer = new byte[1 << 16];
        var scratch = new byte[4096];
        Span<byte> hash = stackalloc byte[MerkleTree.HashSize];
        for (var first = true; i < files.Length; i++, first = false)
        {
            using var stream = new FileStream(files[i], FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            if (first && stream.Length < offset)
            {
                return new TreeScanEnd(from, true, null, 0, null);
            }
            stream.Position = offset;
            var bufferOffset = offset;
            var start = 0;
            var end = 0;
            while (true)
            {
                var nl = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
                if (nl < 0)
                {
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        bufferOffset += start;
                        end -= start;
                        start = 0;
                    }
                    if (end == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                    var read = stream.Read(buffer, end, buffer.Length - end);
                    if (read == 0)
                    {
                        break;
                    }
                    end += read;
                    continue;
                }
                var text = buffer.AsSpan(start, nl);
                var lineOffset = bufferOffset + start;
                start += nl + 1;
                line++;
                if (text.IndexOfAnyExcept(" \t\r"u8) < 0)
                {
                    offset = lineOffset + nl + 1;
                    continue;
                }
                if (!IsJsonObject(text))
                {
                    return new TreeScanEnd(new TreePosition(names[i], lineOffset, line - 1), false, files[i], line, "the line is not a JSON object (it does not start with { and end with })");
                }
                if (scratch.Length < nl + 1)
                {
                    scratch = new byte[Math.Max(nl + 1, scratch.Length * 2)];
                }
                scratch[0] = 0;
                text.CopyTo(scratch.AsSpan(1));
                SHA256.HashData(scratch.AsSpan(0, nl + 1), hash);
                offset = lineOffset + nl + 1;
                var leaf = new TreeLeaf(names[i], lineOffset, nl, line);
                if (!onLeaf(hash, text, leaf))
                {
                    return new TreeScanEnd(leaf.After, false, null, 0, null);
                }
            }
            if (i == files.Length - 1)
            {
                return new TreeScanEnd(new TreePosition(names[i], offset, line), false, null, 0, null);
            }
            // An older day file's unterminated last line will never be completed: it is not a leaf.
            (offset, line) = (0, 0);
        }
        return new TreeScanEnd(from, false, null, 0, null);
    }

    /// <summary>
    /// True when the line has the shape of a JSON object: its first and last non-blank bytes are <c>{</c> and
    /// <c>}</c>. Whether the object inside is well-formed is the chain verifier's question, not the tree's: the tree
    /// commits to the bytes of every record-shaped line.
    /// </summary>
    public static bool IsJsonObject(ReadOnlySpan<byte> line)
    {
        var first = line.IndexOfAnyExcept(" \t\r"u8);
        var last = line.LastIndexOfAnyExcept(" \t\r"u8);
        return first >= 0 && line[first] == (byte)'{' && line[last] == (byte)'}';
    }
}
