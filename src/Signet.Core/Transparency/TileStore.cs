using System.Security.Cryptography;

namespace Signet.Transparency;

/// <summary>
/// The tile files of one audit directory: written with a temporary file and a rename (0600; the contents are
/// deterministic, so several writers may race), read with a small cache.
/// </summary>
internal sealed class TileStore(string auditDirectory, int cacheSize)
{
    private readonly Dictionary<(int Level, long N), byte[]> _cache = [];
    private readonly object _cacheLock = new();

    public string Directory { get; } = auditDirectory;

    /// <summary>The bytes of a full tile, or null when it is missing or not 8,192 bytes long.</summary>
    public byte[]? ReadFull(int level, long n)
    {
        lock (_cacheLock)
        {
            if (_cache.TryGetValue((level, n), out var cached))
            {
                return cached;
            }
        }
        var data = ReadFile(TilePath.File(Directory, level, n));
        if (data is null || data.Length != TilePath.FullBytes)
        {
            return null;
        }
        Remember(level, n, data);
        return data;
    }

    /// <summary>True when the full tile exists with the right size.</summary>
    public bool HasFull(int level, long n)
    {
        var info = new FileInfo(TilePath.File(Directory, level, n));
        return info.Exists && info.Length == TilePath.FullBytes;
    }

    /// <summary>Writes a full or partial tile unless a file with the same bytes is already there; true when it wrote.</summary>
    public bool Write(int level, long n, ReadOnlySpan<byte> data, bool compareFirst)
    {
        var width = data.Length / MerkleTree.HashSize;
        var path = TilePath.File(Directory, level, n, width);
        if (compareFirst)
        {
            var existing = ReadFile(path);
            if (existing is not null && data.SequenceEqual(existing))
            {
                if (width == TilePath.Width)
                {
                    Remember(level, n, existing);
                }
                return false;
            }
        }
        WriteAtomically(path, data);
        if (width == TilePath.Width)
        {
            Remember(level, n, data.ToArray());
        }
        return true;
    }

    public void ClearCache()
    {
        lock (_cacheLock)
        {
            _cache.Clear();
        }
    }

    private void Remember(int level, long n, byte[] data)
    {
        lock (_cacheLock)
        {
            if (_cache.Count >= cacheSize)
            {
                _cache.Clear();
            }
            _cache[(level, n)] = data;
        }
    }

    private static byte[]? ReadFile(string path)
    {
        try
        {
            return System.IO.File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    internal static void WriteAtomically(string path, ReadOnlySpan<byte> data)
    {
        var directory = Path.GetDirectoryName(path)!;
        CreateDirectory(directory);
        var temporary = $"{path}.{Environment.ProcessId}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(data);
            }
            System.IO.File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            System.IO.File.Delete(temporary);
            throw;
        }
    }

    internal static void CreateDirectory(string directory)
    {
        if (System.IO.Directory.Exists(directory))
        {
            return;
        }
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>The Merkle tree hash of the 256 hashes of a full tile (a perfect subtree).</summary>
    public static byte[] FullTileRoot(ReadOnlySpan<byte> tile) => PerfectRoot(tile);

    /// <summary>The root of a perfect subtree given its 2^k hashes, concatenated.</summary>
    public static byte[] PerfectRoot(ReadOnlySpan<byte> hashes)
    {
        var count = hashes.Length / MerkleTree.HashSize;
        if (count == 1)
        {
            return hashes.ToArray();
        }
        var level = hashes.ToArray();
        Span<byte> buffer = stackalloc byte[1 + 2 * MerkleTree.HashSize];
        buffer[0] = 1;
        while (count > 1)
        {
            for (var i = 0; i < count / 2; i++)
            {
                level.AsSpan(2 * i * MerkleTree.HashSize, 2 * MerkleTree.HashSize).CopyTo(buffer[1..]);
                SHA256.HashData(buffer, level.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize));
            }
            count /= 2;
        }
        return level.AsSpan(0, MerkleTree.HashSize).ToArray();
    }
}
