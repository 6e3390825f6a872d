using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Signet.Canonicalization;

namespace Signet.Audit;

/// <summary>
/// Recovery and repair of the chain's tail: finds where the chain ends (from the tail checkpoint when it still
/// describes the newest day file, else by reading the day files back to the last record), moves a torn last line
/// aside, refuses a corrupt complete last line or, when repairing (<c>signet log repair</c>), moves it aside and
/// records that, and writes the checkpoint on a clean close.
/// </summary>
/// <remarks>
/// <para>The tail checkpoint, <c>audit/tail.checkpoint</c>, holds one JSON object: the day file's name, the byte offset
/// just past its last record, the number of lines up to there, and that record's hash. It is a hint, never evidence:
/// on open it is used only when the line that ends exactly at that offset is a record with exactly that hash (so the
/// prefix it describes is still the one it was written for); anything else (missing, unreadable, another day, a file
/// that shrank, was replaced or edited) falls back to reading the whole day file, as without it. Line numbers are the
/// only thing it can affect; the chain is always continued from the record actually in the file, and verification
/// counts lines itself. It is not named <c>*.jsonl</c>, so the reference's tools, which walk every <c>*.jsonl</c> of
/// the directory, do not see it.</para>
/// <para>Not thread-safe: <see cref="AuditChain"/> calls it while it holds its lock (or before the log is shared).</para>
/// </remarks>
internal sealed partial class AuditRecovery
{
    /// <summary>The checkpoint's file name in the audit directory.</summary>
    public const string CheckpointFileName = "tail.checkpoint";

    /// <summary>A record line longer than this is not looked for backwards (the whole file is read instead).</summary>
    private const int MaxCheckpointLineBytes = 16 * 1024 * 1024;

    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly IAuditFiles _files;
    private readonly List<AuditTornTail> _tornTails = [];
    private readonly List<AuditRepairedLine> _repairs = [];
    private bool _repairing;

    public AuditRecovery(string directory, ILogger logger, IAuditFiles files, bool repairing)
    {
        _directory = directory;
        _logger = logger;
        _files = files;
        _repairing = repairing;
    }

    /// <summary>Torn tails found and moved aside so far.</summary>
    public IReadOnlyList<AuditTornTail> TornTails => _tornTails;

    /// <summary>
    /// The corrupt lines open moved aside; from now on a corrupt last line stops the writer as it stops any (only what
    /// open found is repaired).
    /// </summary>
    public List<AuditRepairedLine> EndRepair()
    {
        _repairing = false;
        return [.. _repairs];
    }

    /// <summary>Finds the chain's tail across the day files, newest first.</summary>
    public (AuditCursor Cursor, string TipHash) Recover()
    {
        var dayFiles = AuditRecordFormat.ChainFiles(_directory)
            .Where(f => AuditRecordFormat.IsDayFileName(Path.GetFileName(f)))
            .Reverse()
            .ToArray();
        if (dayFiles.Length > 0 && TryCheckpoint(dayFiles[0], out var from, out var previous, out var checkpointHash))
        {
            // Only what was appended since the last clean close is read.
            var (scan, hash) = ScanAndRepair(dayFiles[0], from, previous);
            if (scan.End >= from.End)
            {
                return (new AuditCursor(dayFiles[0], scan.End, scan.Lines), hash ?? checkpointHash);
            }
            // Repair cut the file back before the checkpoint: read it all, as without one.
        }
        AuditCursor cursor = default;
        foreach (var file in dayFiles)
        {
            var (scan, hash) = ScanAndRepair(file, new AuditCursor(file, 0, 0), null);
            if (cursor.Path is null)
            {
                cursor = new AuditCursor(file, scan.End, scan.Lines);
            }
            if (hash is not null)
            {
                return (cursor, hash);
            }
        }
        return (cursor, SignetHash.Genesis);
    }

    /// <summary>The hash of the last record in the day files before <paramref name="file"/> (genesis if none).</summary>
    public string LastHashBefore(string file)
    {
        var name = Path.GetFileName(file);
        foreach (var older in AuditRecordFormat.ChainFiles(_directory)
                     .Where(f => AuditRecordFormat.IsDayFileName(Path.GetFileName(f)) && string.CompareOrdinal(Path.GetFileName(f), name) < 0)
                     .Reverse())
        {
            var (_, hash) = ScanAndRepair(older, new AuditCursor(older, 0, 0), null);
            if (hash is not null)
            {
                return hash;
            }
        }
        return SignetHash.Genesis;
    }

    /// <summary>
    /// Scans a file from a known line start, moves a torn last line (no newline) aside, and returns the scan and the
    /// last record's hash if the scanned region holds one. A complete last line that is not a record whose hash matches
    /// its content is refused (<see cref="AuditLogCorruptException"/>), or, when repairing, moved aside and recorded.
    /// </summary>
    public (FileScan Scan, string? LastHash) ScanAndRepair(string path, AuditCursor from, FileScan? previous)
    {
        while (true)
        {
            var scan = _files.Scan(path, from.End, from.Lines, previous);
            if (scan.HasTornBytes)
            {
                const string reason = "the last line has no newline (a write was cut short)";
                var (saved, _) = MoveAside(path, scan.TornStart, scan.End, AuditRecordFormat.TornSuffix);
                var torn = new AuditTornTail(path, scan.Lines + 1, scan.TornStart, scan.End - scan.TornStart, saved, reason);
                _tornTails.Add(torn);
                LogTornTail(_logger, path, torn.Line, torn.Length, saved, reason);
                scan = scan with { End = scan.TornStart, TornStart = -1 };
            }
            if (!scan.HasContent || scan.LastContentStart < from.End)
            {
                return (scan, null);
            }
            var line = AuditFileScanner.ReadRange(path, scan.LastContentStart, scan.LastContentEnd);
            if (AuditRecordFormat.IsChainableRecord(line, out var hash, out var why))
            {
                return (scan, hash);
            }
            var corrupt = new AuditCorruptLine(path, scan.LastContentLine, scan.LastContentStart, scan.End - scan.LastContentStart, why);
            if (!_repairing)
            {
                LogCorruptTail(_logger, path, corrupt.Line, why);
                throw new AuditLogCorruptException(corrupt);
            }
            var (repairFile, bytes) = MoveAside(path, corrupt.Offset, scan.End, AuditRecordFormat.RepairSuffix);
            var repaired = new AuditRepairedLine(path, corrupt.Line, corrupt.Offset, corrupt.Length,
                "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), repairFile, why);
            _repairs.Add(repaired);
            LogRepaired(_logger, path, repaired.Line, repaired.Length, repairFile, why);
            from = new AuditCursor(path, 0, 0);
            previous = null;
        }
    }

    /// <summary>
    /// Copies the bytes [start, end) of a day file to a new file beside it (0600, fsynced with its directory entry),
    /// then cuts the day file back to <paramref name="start"/>. On failure nothing partial is left: a copy that could
    /// not be completed is removed, and so is a complete one when the day file could not be cut back (its bytes are
    /// still in the day file).
    /// </summary>
    private (string SavedAs, byte[] Bytes) MoveAside(string path, long start, long end, string suffix)
    {
        var bytes = AuditFileScanner.ReadRange(path, start, end);
        var saved = $"{path}.{start}{suffix}";
        for (var n = 1; File.Exists(saved); n++)
        {
            saved = $"{path}.{start}-{n}{suffix}";
        }
        WriteAside(saved, bytes, path);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            try
            {
                _files.SetLength(handle, start);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var left = TryDelete(saved);
            throw new IOException($"cannot cut {path} back to {start} bytes: {e.Message}; nothing was removed from it{left}", e);
        }
        using (handle)
        {
            // A failed fsync here keeps the copy: the cut may already be in the page cache, and the copy then holds the only bytes.
            _files.FlushToDisk(handle);
        }
        return (saved, bytes);
    }

    private void WriteAside(string saved, byte[] bytes, string from)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            // It holds tool arguments, as the log does: only its owner may read it.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        FileStream copy;
        try
        {
            copy = new FileStream(saved, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create {saved} to move bytes of {from} aside: {e.Message}; nothing was removed from {from}", e);
        }
        try
        {
            using (copy)
            {
                copy.Write(bytes);
                copy.Flush(flushToDisk: true);
            }
            _files.FsyncDirectory(_directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var left = TryDelete(saved);
            throw new IOException($"cannot write {saved} to move bytes of {from} aside: {e.Message}; nothing was removed from {from}{left}", e);
        }
    }

    /// <summary>Removes a file of ours; returns "" or what is left behind, for the error message.</summary>
    private static string TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $" (and {path} could not be removed: {e.Message})";
        }
    }

    /// <summary>
    /// The place to start reading <paramref name="dayFile"/> from, when the checkpoint describes a prefix of it that
    /// is still there; false otherwise.
    /// </summary>
    private bool TryCheckpoint(string dayFile, out AuditCursor from, out FileScan previous, out string lastHash)
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
            from = new AuditCursor(dayFile, end, lines);
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
    private static bool TryReadLineEndingAt(SafeFileHandle handle, long end, out long lineStart, out byte[] line)
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

    /// <summary>Records where the chain's tip is, for the next open. Best effort.</summary>
    public void WriteCheckpoint(AuditCursor cursor, string tipHash)
    {
        if (cursor.Path is not { } dayFile || cursor.End <= 0 || cursor.Lines <= 0)
        {
            return;
        }
        var path = Path.Combine(_directory, CheckpointFileName);
        // A name of its own: two writers closing at once (in one process or two) never write into one temporary file.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            var text = string.Create(CultureInfo.InvariantCulture,
                $"{{\"file\":\"{Path.GetFileName(dayFile)}\",\"end\":{cursor.End},\"lines\":{cursor.Lines},\"record_hash\":\"{tipHash}\"}}\n");
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

    [LoggerMessage(2, LogLevel.Warning, "Torn audit record in {File} at line {Line} ({Length} bytes) moved aside to {SavedAs}: {Reason}")]
    private static partial void LogTornTail(ILogger logger, string file, long line, long length, string savedAs, string reason);

    [LoggerMessage(8, LogLevel.Error, "Audit file {File} line {Line} is complete but cannot be continued from ({Reason}); refusing to append until 'signet log repair' moves it aside")]
    private static partial void LogCorruptTail(ILogger logger, string file, long line, string reason);

    [LoggerMessage(9, LogLevel.Warning, "Repair: corrupt audit line {File} line {Line} ({Length} bytes) moved aside to {SavedAs}: {Reason}")]
    private static partial void LogRepaired(ILogger logger, string file, long line, long length, string savedAs, string reason);
}
