using System.Buffers;

namespace Signet.Audit;

/// <summary>What a forward scan of a region of a day file found.</summary>
internal readonly record struct FileScan(
    long End,
    long Lines,
    long LastContentStart,
    long LastContentEnd,
    long LastContentLine,
    long TornStart)
{
    /// <summary>True when the scan found a complete non-blank line.</summary>
    public bool HasContent => LastContentLine > 0;

    /// <summary>True when bytes after the last newline hold more than whitespace (a partial write).</summary>
    public bool HasTornBytes => TornStart >= 0;
}

/// <summary>Reads day files forward in chunks; never holds more than one chunk and one line in memory.</summary>
internal static class AuditFileScanner
{
    private const int ChunkSize = 1 << 16;

    /// <summary>Scans <paramref name="path"/> from <paramref name="from"/> (a line start) to its current end.</summary>
    public static FileScan Scan(string path, long from, long linesBefore, FileScan? previous = null)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var end = RandomAccess.GetLength(handle);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            long lines = linesBefore;
            long lastStart = previous?.LastContentStart ?? -1, lastEnd = previous?.LastContentEnd ?? -1, lastLine = previous?.LastContentLine ?? 0;
            long lineStart = from;
            var lineHasContent = false;
            long offset = from;
            while (offset < end)
            {
                var n = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(ChunkSize, end - offset)), offset);
                if (n == 0)
                {
                    end = offset; // the file shrank while we read it
                    break;
                }
                var span = buffer.AsSpan(0, n);
                var pos = 0;
                while (pos < n)
                {
                    var nl = span[pos..].IndexOf((byte)'\n');
                    var segment = nl < 0 ? span[pos..] : span.Slice(pos, nl);
                    if (!lineHasContent && segment.IndexOfAnyExcept(" \t\r"u8) >= 0)
                    {
                        lineHasContent = true;
                    }
                    if (nl < 0)
                    {
                        break;
                    }
                    lines++;
                    var newlineAt = offset + pos + nl;
                    if (lineHasContent)
                    {
                        lastStart = lineStart;
                        lastEnd = newlineAt;
                        lastLine = lines;
                    }
                    lineStart = newlineAt + 1;
                    lineHasContent = false;
                    pos += nl + 1;
                }
                offset += n;
            }
            var torn = lineHasContent ? lineStart : -1;
            return new FileScan(end, lines, lastStart, lastEnd, lastLine, torn);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads the bytes [start, end) of a file.</summary>
    public static byte[] ReadRange(string path, long start, long end)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var bytes = new byte[end - start];
        var done = 0;
        while (done < bytes.Length)
        {
            var n = RandomAccess.Read(handle, bytes.AsSpan(done), start + done);
            if (n == 0)
            {
                throw new IOException($"{path} shrank while it was being read");
            }
            done += n;
        }
        return bytes;
    }
}
