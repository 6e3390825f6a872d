using System.Buffers;
using System.IO.Pipelines;

namespace Signet.Cli.Proxy;

/// <summary>Splits a byte stream into '\n'-terminated lines without copying, with a cap on the line length.</summary>
internal static class LineReader
{
    /// <summary>Options for reading stdio: 64 KiB segments keep large messages in few pieces.</summary>
    public static StreamPipeReaderOptions PipeOptions { get; } = new(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true);

    /// <summary>
    /// Calls <paramref name="onLine"/> for every line (terminator included; the last line may have none) and
    /// <paramref name="onOverflow"/> with the pieces of a line whose content exceeds <paramref name="maxLineBytes"/>
    /// (its last piece with <c>isLast</c> true). Returns at the end of the stream.
    /// </summary>
    public static async Task ReadAsync(
        PipeReader reader,
        int maxLineBytes,
        Func<ReadOnlySequence<byte>, ValueTask> onLine,
        Func<ReadOnlySequence<byte>, bool, ValueTask> onOverflow,
        CancellationToken cancellationToken)
    {
        long searched = 0;      // bytes of the unconsumed buffer known to hold no '\n' (no quadratic rescans of big lines)
        var overflowing = false; // inside a line that is being passed on in pieces
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            try
            {
                while (!buffer.IsEmpty)
                {
                    var newline = buffer.Slice(searched).PositionOf((byte)'\n');
                    if (newline is null)
                    {
                        if (overflowing || buffer.Length > (long)maxLineBytes + 1)
                        {
                            overflowing = true;
                            await onOverflow(buffer, false).ConfigureAwait(false);
                            buffer = buffer.Slice(buffer.End);
                            searched = 0;
                        }
                        else
                        {
                            searched = buffer.Length;
                        }
                        break;
                    }

                    var end = buffer.GetPosition(1, newline.Value);
                    var line = buffer.Slice(0, end);
                    if (overflowing || ContentLength(line) > maxLineBytes)
                    {
                        await onOverflow(line, true).ConfigureAwait(false);
                        overflowing = false;
                    }
                    else
                    {
                        await onLine(line).ConfigureAwait(false);
                    }
                    buffer = buffer.Slice(end);
                    searched = 0;
                }

                if (result.IsCompleted)
                {
                    if (overflowing || buffer.Length > maxLineBytes)
                    {
                        await onOverflow(buffer, true).ConfigureAwait(false);
                    }
                    else if (!buffer.IsEmpty)
                    {
                        await onLine(buffer).ConfigureAwait(false);
                    }
                    buffer = buffer.Slice(buffer.End);
                    return;
                }
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    /// <summary>The length of a line without its "\n" or "\r\n".</summary>
    private static long ContentLength(ReadOnlySequence<byte> line)
    {
        var length = line.Length - 1;
        if (length > 0 && line.Slice(length - 1, 1).FirstSpan[0] == (byte)'\r')
        {
            length--;
        }
        return length;
    }

    /// <summary>Splits a line into its content and its terminator ("\n", "\r\n" or none).</summary>
    public static (ReadOnlyMemory<byte> Content, ReadOnlyMemory<byte> Terminator) Split(ReadOnlyMemory<byte> line)
    {
        var span = line.Span;
        if (span.Length > 0 && span[^1] == (byte)'\n')
        {
            var cut = span.Length > 1 && span[^2] == (byte)'\r' ? span.Length - 2 : span.Length - 1;
            return (line[..cut], line[cut..]);
        }
        return (line, ReadOnlyMemory<byte>.Empty);
    }

    /// <summary>The line as one block of memory (no copy when it sits in one segment).</summary>
    public static ReadOnlyMemory<byte> Contiguous(ReadOnlySequence<byte> line) =>
        line.IsSingleSegment ? line.First : line.ToArray();
}
