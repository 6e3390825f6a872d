using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Signet.Transparency;

/// <summary>Where the records of one full level-0 tile are: the first leaf's line, and the position after the last.</summary>
internal readonly record struct AuditTreeIndexEntry(TreePosition Start, TreePosition End);

/// <summary>
/// <c>audit/tree.index</c>: one fixed-size entry per full level-0 tile (where its 256 records start and end in the day
/// files), so a catch-up resumes after the last full tile and a record is found without reading the whole log. Each
/// entry carries a checksum; the file is a hint, checked against the tiles and the JSONL before it is trusted.
/// </summary>
internal sealed class AuditTreeIndex(string auditDirectory)
{
    public const string FileName = "tree.index";
    private const int EntrySize = 48;

    private readonly List<AuditTreeIndexEntry> _entries = [];

    public string Path { get; } = System.IO.Path.Combine(auditDirectory, FileName);

    public IReadOnlyList<AuditTreeIndexEntry> Entries => _entries;

    /// <summary>Reads the entries up to the first missing, torn or damaged one.</summary>
    public void Load()
    {
        _entries.Clear();
        byte[] data;
        try
        {
            data = File.ReadAllBytes(Path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }
        for (var at = 0; at + EntrySize <= data.Length; at += EntrySize)
        {
            if (Decode(data.AsSpan(at, EntrySize)) is not { } entry)
            {
                break;
            }
            _entries.Add(entry);
        }
    }

    /// <summary>Adds entries after the known ones and writes them in place (every writer writes the same bytes).</summary>
    public void Append(IReadOnlyList<AuditTreeIndexEntry> added)
    {
        if (added.Count == 0)
        {
            return;
        }
        var data = new byte[added.Count * EntrySize];
        for (var i = 0; i < added.Count; i++)
        {
            Encode(added[i], data.AsSpan(i * EntrySize, EntrySize));
        }
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(Path, options))
        {
            var handle = stream.SafeFileHandle;
            RandomAccess.Write(handle, data, (long)_entries.Count * EntrySize);
        }
        _entries.AddRange(added);
    }

    /// <summary>Replaces the whole index (after a rebuild).</summary>
    public void Replace(IReadOnlyList<AuditTreeIndexEntry> entries)
    {
        var data = new byte[entries.Count * EntrySize];
        for (var i = 0; i < entries.Count; i++)
        {
            Encode(entries[i], data.AsSpan(i * EntrySize, EntrySize));
        }
        TileStore.WriteAtomically(Path, data);
        _entries.Clear();
        _entries.AddRange(entries);
    }

    private static void Encode(AuditTreeIndexEntry entry, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, DayNumber(entry.Start.File));
        BinaryPrimitives.WriteInt64LittleEndian(destination[4..], entry.Start.Offset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[12..], entry.Start.Line);
        BinaryPrimitives.WriteInt32LittleEndian(destination[20..], DayNumber(entry.End.File));
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], entry.End.Offset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[32..], entry.End.Line);
        SHA256.HashData(destination[..40])[..8].CopyTo(destination[40..]);
    }

    private static AuditTreeIndexEntry? Decode(ReadOnlySpan<byte> data)
    {
        if (!SHA256.HashData(data[..40]).AsSpan(0, 8).SequenceEqual(data[40..48]))
        {
            return null;
        }
        var start = DayName(BinaryPrimitives.ReadInt32LittleEndian(data));
        var end = DayName(BinaryPrimitives.ReadInt32LittleEndian(data[20..]));
        if (start is null || end is null)
        {
            return null;
        }
        return new AuditTreeIndexEntry(
            new TreePosition(start, BinaryPrimitives.ReadInt64LittleEndian(data[4..]), BinaryPrimitives.ReadInt64LittleEndian(data[12..])),
            new TreePosition(end, BinaryPrimitives.ReadInt64LittleEndian(data[24..]), BinaryPrimitives.ReadInt64LittleEndian(data[32..])));
    }

    private static int DayNumber(string? dayFile) =>
        int.Parse(dayFile.AsSpan(0, 4), CultureInfo.InvariantCulture) * 10000 +
        int.Parse(dayFile.AsSpan(5, 2), CultureInfo.InvariantCulture) * 100 +
        int.Parse(dayFile.AsSpan(8, 2), CultureInfo.InvariantCulture);

    private static string? DayName(int day)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{day / 10000:D4}-{day / 100 % 100:D2}-{day % 100:D2}.jsonl");
        return Signet.Audit.AuditRecordFormat.IsDayFileName(name) ? name : null;
    }
}
