using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Signet.Audit;

/// <summary>
/// The tail checkpoint: where the newest day file ended when a writer last closed cleanly, and how many lines it had
/// there, so that opening the log reads only what was appended since instead of counting every line of today's file.
/// </summary>
/// <remarks>
/// <para>The file <c>audit/tail.checkpoint</c> holds one JSON object: the day file's name, the byte offset just past
/// its last record, the number of lines up to there, and that record's hash. It is a hint, never evidence: on open it
/// is used only when the line that ends exactly at that offset is a record with exactly that hash (so the prefix it
/// describes is still the one it was written for); anything else (missing, unreadable, another day, a file that
/// shrank, was replaced or edited) falls back to reading the whole day file, as without it. Line numbers are the
/// only thing it can affect; the chain is always continued from the record actually in the file, and verification
/// counts lines itself.</para>
/// <para>It is not named <c>*.jsonl</c>, so the reference's tools, which walk every <c>*.jsonl</c> of the
/// directory, do not see it.</para>
/// </remarks>
public sealed partial class AuditLog
{
    /// <summary>The checkpoint's file name in the audit directory.</summary>
    internal const string CheckpointFileName = "tail.checkpoint";

    /// <summary>A record line longer than this is not looked for backwards (the whole file is read instead).</summary>
    private const int MaxCheckpointLineBytes = 16 * 1024 * 1024;

    /// <summary>Where open started reading the newest day file (0: from its start). For tests.</summary>
    internal long RecoveredFrom { get; private set; }

    /// <summary>
    /// The place to start reading <paramref name="dayFile"/> from, when the checkpoint describes a prefix of it that
    /// is still there; false otherwise.
    /// </summary>
    private bool TryCheckpoint(string dayFile, out Cursor from, out FileScan previous, out string lastHash)
    {
        from = default;
        previous = default;
        lastHash = null!;
        try
        {
            var path = Path.Combine(_directory, CheckpointFileName);
            if (!File.Exists(path))
            {
                return false;
            }
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("file", out var file) || file.ValueKind != JsonValueKind.String
                || !string.Equals(file.GetString(), Path.GetFileName(dayFile), StringComparison.Ordinal)
                || !root.TryGetProperty("end", out var endElement) || !endElement.TryGetInt64(out var end) || end <= 0
                || !root.TryGetProperty("lines", out var linesElement) || !linesElement.TryGetInt64(out var lines) || lines <= 0
                || !root.TryGetProperty("record_hash", out var hashElement) || hashElement.GetString() is not { } hash)
            {
                return false;
            }

            using var handle = File.OpenHandle(dayFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (RandomAccess.GetLength(handle) < end || !TryReadLineEndingAt(handle, end, out var lineStart, out var line))
            {
                return false;
            }
            // The line must still be that record, unchanged: an edit that keeps the stored hash is caught here, and the
            // whole read that follows refuses it as any other corrupt last line.
            if (!AuditRecordFormat.IsChainableRecord(line, out var recordHash, out _) || !string.Equals(recordHash, hash, StringComparison.Ordinal))
            {
                return false;
            }
            from = new Cursor(dayFile, end, lines);
            previous = new FileScan(end, lines, lineStart, end - 1, lines, -1);
            lastHash = hash;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The line (without its newline) that ends with the newline at <paramref name="end"/> - 1.</summary>
    private static bool TryReadLineEndingAt(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long end, out long lineStart, out byte[] line)
    {
        lineStart = 0;
        line = [];
        var one = new byte[1];
        if (RandomAccess.Read(handle, one, end - 1) != 1 || one[0] != (byte)'\n')
        {
            return false;
        }
        // Read backwards in growing blocks until the previous newline (or the file's start) is found.
        for (var size = 4096; ; size *= 4)
        {
            var start = Math.Max(0, end - 1 - size);
            var block = new byte[end - 1 - start];
            if (RandomAccess.Read(handle, block, start) != block.Length)
            {
                return false;
            }
            var newline = block.AsSpan().LastIndexOf((byte)'\n');
            if (newline >= 0 || start == 0)
            {
                lineStart = start + newline + 1;
                line = block[(newline + 1)..];
                return true;
            }
            if (size >= MaxCheckpointLineBytes)
            {
                return false;
            }
        }
    }

    /// <summary>Records where the chain's tip is, for the next open (held: <see cref="_io"/>). Best effort.</summary>
    private void WriteCheckpoint()
    {
        if (_failure is not null || _cursor.Path is not { } dayFile || _cursor.End <= 0 || _cursor.Lines <= 0)
        {
            return;
        }
        var path = Path.Combine(_directory, CheckpointFileName);
        // A name of its own: two writers closing at once (in one process or two) never write into one temporary file.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            var text = string.Create(CultureInfo.InvariantCulture,
                $"{{\"file\":\"{Path.GetFileName(dayFile)}\",\"end\":{_cursor.End},\"lines\":{_cursor.Lines},\"record_hash\":\"{_tailHash}\"}}\n");
            File.WriteAllBytes(temporary, Encoding.UTF8.GetBytes(text));
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only the next open's speed depends on it.
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing to tidy up then.
            }
        }
    }
}
