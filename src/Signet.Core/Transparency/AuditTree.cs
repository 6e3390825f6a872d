using System.Security.Cryptography;

namespace Signet.Transparency;

/// <summary>
/// The Merkle tree over an audit log, kept beside it as C2SP tlog-tiles (<c>audit/tile/&lt;L&gt;/&lt;N&gt;[.p/&lt;W&gt;]</c>).
/// Its leaves are the records in chain order across the day files; a leaf's entry is the record's JSONL line without
/// its newline.
/// </summary>
/// <remarks>
/// The JSONL is the source of truth and the tiles are derived from it: <see cref="Open"/> and <see cref="CatchUp"/>
/// extend them with records appended since (by any process), and rebuild them from the JSONL when they are missing,
/// the wrong size, or the last full tile no longer matches the records. Full tiles are written once complete, partial
/// tiles only by <see cref="WriteCheckpointTiles"/>; there are no entry bundles (the day files are the entries).
/// Blank lines are not leaves; the tree stops before a complete line that is not a JSON object until it is repaired.
/// Thread-safe; several processes may keep the tiles of one directory at once (the files they write are identical).
/// </remarks>
public sealed class AuditTree : IDisposable
{
    private const int Levels = 8;
    private const int PendingTileBatch = 64;
    private const int TileWriters = 8;

    private readonly object _gate = new();
    private readonly string _directory;
    private readonly TileStore _tiles;
    private readonly AuditTreeIndex _index;
    private readonly List<byte[]>[] _edge = new List<byte[]>[Levels + 1];
    private readonly List<AuditTreeIndexEntry> _newIndexEntries = [];
    private readonly List<(int Level, long N, byte[] Data)> _pendingTiles = [];
    private long _size;
    private TreePosition _position;
    private TreePosition _partialStart;
    private TreeLeaf? _lastLeaf;
    private byte[]? _lastLeafHash;
    private bool _compare;
    private int _written;
    private int _repaired;
    private bool _disposed;
    private int _owners = 1;

    private AuditTree(string directory, AuditTreeOptions options)
    {
        _directory = directory;
        _tiles = new TileStore(directory, Math.Max(1, options.TileCacheSize));
        _index = new AuditTreeIndex(directory);
        for (var t = 0; t < _edge.Length; t++)
        {
            _edge[t] = [];
        }
    }

    /// <summary>The leaves known: records in the JSONL up to the last catch-up.</summary>
    public long Size
    {
        get
        {
            lock (_gate)
            {
                return _size;
            }
        }
    }

    /// <summary>What <see cref="Open"/> did to catch the tiles up.</summary>
    public AuditTreeCatchUp OpenCatchUp { get; private set; } = new();

    /// <summary>
    /// Opens the tree of the log in <paramref name="auditDirectory"/>: resumes after the last full tile when the tiles and
    /// the resume index agree with the JSONL, rebuilds the tiles from the JSONL otherwise, and catches up with every
    /// record appended since.
    /// </summary>
    /// <exception cref="SignetException">The day files or the tiles cannot be read or written.</exception>
    public static AuditTree Open(string auditDirectory, AuditTreeOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(auditDirectory);
        var tree = new AuditTree(Path.GetFullPath(auditDirectory), options ?? new AuditTreeOptions());
        lock (tree._gate)
        {
            tree.OpenCatchUp = tree.Guard(() =>
            {
                var problem = tree.Resume();
                return problem is null ? tree.Extend(null) : tree.Rebuild(problem);
            });
        }
        return tree;
    }

    /// <summary>
    /// Reads the records appended since the last catch-up (by any process) and extends the tiles. Rebuilds when the
    /// last record it knew has changed or the last full tiles are gone or the wrong size.
    /// </summary>
    /// <exception cref="SignetException">The day files or the tiles cannot be read or written.</exception>
    public AuditTreeCatchUp CatchUp()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Guard(() =>
            {
                var problem = CheckTail();
                return problem is null ? Extend(null) : Rebuild(problem);
            });
        }
    }

    /// <summary>The root hash of the tree of the first <paramref name="size"/> leaves.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative or above <see cref="Size"/>.</exception>
    public byte[] RootAt(long size)
    {
        lock (_gate)
        {
            RequireSize(size, nameof(size));
            return size == 0 ? MerkleTree.EmptyRoot() : Guard(() => RangeHash(0, size));
        }
    }

    /// <summary>The leaf hash at <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Size"/>.</exception>
    public byte[] LeafHash(long index)
    {
        lock (_gate)
        {
            RequireIndex(index, _size);
            return Guard(() => NodeAt(0, index));
        }
    }

    /// <summary>The inclusion proof (RFC 6962 §2.1.1) of leaf <paramref name="index"/> in the tree of <paramref name="size"/> leaves.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not below the size, or the size is above <see cref="Size"/>.</exception>
    public IReadOnlyList<byte[]> InclusionProof(long index, long size)
    {
        lock (_gate)
        {
            RequireSize(size, nameof(size));
            RequireIndex(index, size);
            return Guard(() =>
            {
                var proof = new List<byte[]>(MerkleTree.InclusionProofLength(index, size));
                InclusionPath(index, 0, size, proof);
                return proof;
            });
        }
    }

    /// <summary>The consistency proof (RFC 6962 §2.1.2) from the tree of <paramref name="oldSize"/> leaves to that of <paramref name="newSize"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The sizes are not 0 ≤ old ≤ new ≤ <see cref="Size"/>.</exception>
    public IReadOnlyList<byte[]> ConsistencyProof(long oldSize, long newSize)
    {
        lock (_gate)
        {
            RequireSize(newSize, nameof(newSize));
            if (oldSize < 0 || oldSize > newSize)
            {
                throw new ArgumentOutOfRangeException(nameof(oldSize), $"old size {oldSize} is not between 0 and the new size {newSize}");
            }
            return Guard(() =>
            {
                var proof = new List<byte[]>(MerkleTree.ConsistencyProofLength(oldSize, newSize));
                if (oldSize > 0 && oldSize < newSize)
                {
                    SubProof(oldSize, 0, newSize, true, proof);
                }
                return proof;
            });
        }
    }

    /// <summary>The record at leaf <paramref name="index"/>: its day file, line number and bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Size"/>.</exception>
    /// <exception cref="SignetException">The record is no longer in the JSONL as the tree has it (the log changed; run <see cref="CatchUp"/> or <see cref="Check"/>).</exception>
    public AuditTreeEntry ReadEntry(long index)
    {
        lock (_gate)
        {
            RequireIndex(index, _size);
            return Guard(() =>
            {
                var tile = index / TilePath.Width;
                var from = tile < _index.Entries.Count ? _index.Entries[(int)tile].Start
                    : tile == _size / TilePath.Width ? _partialStart
                    : throw new SignetException($"the resume index in {_index.Path} does not reach record {index}; reopen the tree to rebuild it");
                var skip = index % TilePath.Width;
                AuditTreeEntry? found = null;
                var expected = NodeAt(0, index);
                AuditTreeScanner.Scan(_directory, from, (hash, line, in leaf) =>
                {
                    if (skip-- > 0)
                    {
                        return true;
                    }
                    if (hash.SequenceEqual(expected))
                    {
                        found = new AuditTreeEntry(index, Path.Combine(_directory, leaf.File), leaf.Line, line.ToArray());
                    }
                    return false;
                });
                return found ?? throw new SignetException($"record {index} is no longer in the audit log as the tree has it: the log changed after the tree was built; run the tree's check");
            });
        }
    }

    /// <summary>
    /// Writes the partial tiles a checkpoint of <paramref name="size"/> needs (C2SP: a log serves the partial tiles of
    /// every checkpointed size); full tiles are already there.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative or above <see cref="Size"/>.</exception>
    public void WriteCheckpointTiles(long size)
    {
        lock (_gate)
        {
            RequireSize(size, nameof(size));
            Guard(() =>
            {
                for (var t = 0; t < Levels && TilePath.Entries(size, t) > 0; t++)
                {
                    var count = TilePath.Entries(size, t);
                    var width = (int)(count % TilePath.Width);
                    if (width > 0)
                    {
                        var n = count / TilePath.Width;
                        _tiles.Write(t, n, TileEntries(t, n, 0, width), compareFirst: true);
                    }
                }
                return 0;
            });
        }
    }

    /// <summary>
    /// Recomputes every leaf from the JSONL and compares it, and every full tile above, with the tiles: returns the first
    /// leaf index that differs with its file and line and the tile holding it, or OK. Changes nothing.
    /// </summary>
    /// <param name="progress">Receives the number of leaves checked, now and then.</param>
    public AuditTreeCheck Check(IProgress<long>? progress = null)
    {
        long size;
        List<byte[]>[] edge;
        lock (_gate)
        {
            size = _size;
            edge = [.. _edge.Select(e => new List<byte[]>(e))];
        }
        return Guard(() => new AuditTreeChecker(_directory, size, edge, progress).Run());
    }

    /// <summary>Marks the tree closed (once every owner <see cref="Share"/> added has disposed it too); it holds no files open.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_owners > 0 && --_owners == 0)
            {
                _disposed = true;
            }
        }
    }

    /// <summary>
    /// Adds an owner: the tree stays open until each owner disposed it once. The log's checkpointer shares the log's
    /// tree this way, so that records are hashed once and its last checkpoint can still run after the log closed.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The tree is already closed.</exception>
    internal AuditTree Share()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _owners++;
        }
        return this;
    }

    private T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SignetException($"the Merkle tree tiles in {_directory} cannot be read or written: {e.Message}", e);
        }
    }

    private void RequireSize(long size, string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (size < 0 || size > _size)
        {
            throw new ArgumentOutOfRangeException(name, $"size {size} is not between 0 and the tree size {_size}");
        }
    }

    private static void RequireIndex(long index, long size)
    {
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is not in a tree of size {size}");
        }
    }

    private static long FullTiles(long size, int level) => TilePath.FullTiles(size, level);

    /// <summary>Loads the state after the last full tile the index names, or says why it cannot be trusted.</summary>
    private string? Resume()
    {
        _index.Load();
        var tiles = _index.Entries.Count;
        var size = (long)tiles * TilePath.Width;
        for (var t = 0; t < Levels; t++)
        {
            var full = FullTiles(size, t);
            for (long n = 0; n < full; n++)
            {
                if (!_tiles.HasFull(t, n))
                {
                    return $"tile {TilePath.Of(t, n)} is missing or not {TilePath.FullBytes} bytes";
                }
            }
        }
        if (tiles == 0)
        {
            ResetState();
            return _tiles.HasFull(0, 0) ? $"the resume index {_index.Path} is missing or damaged" : null;
        }

        var last = _index.Entries[tiles - 1];
        var hashes = new byte[TilePath.FullBytes];
        var count = 0;
        TreeLeaf? lastLeaf = null;
        var end = AuditTreeScanner.Scan(_directory, last.Start, (hash, _, in leaf) =>
        {
            hash.CopyTo(hashes.AsSpan(count++ * MerkleTree.HashSize));
            lastLeaf = leaf;
            return count < TilePath.Width;
        });
        var stored = _tiles.ReadFull(0, tiles - 1);
        if (end.Stale || count != TilePath.Width || end.Position != last.End || stored is null || !stored.AsSpan().SequenceEqual(hashes))
        {
            return $"the records of the last full tile {TilePath.Of(0, tiles - 1)} do not match it";
        }
        for (var t = 1; t < Levels; t++)
        {
            var full = FullTiles(size, t);
            if (full > 0)
            {
                var parent = _tiles.ReadFull(t, full - 1);
                for (var i = 0; i < TilePath.Width; i++)
                {
                    var child = _tiles.ReadFull(t - 1, (full - 1) * TilePath.Width + i);
                    if (parent is null || child is null ||
                        !TileStore.FullTileRoot(child).AsSpan().SequenceEqual(parent.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize)))
                    {
                        return $"the last full tile {TilePath.Of(t, full - 1)} does not match the tiles below it";
                    }
                }
            }
        }

        ResetState();
        _size = size;
        for (var t = 1; t < Levels; t++)
        {
            for (var n = FullTiles(size, t) * TilePath.Width; n < FullTiles(size, t - 1); n++)
            {
                _edge[t].Add(TileStore.FullTileRoot(_tiles.ReadFull(t - 1, n)!));
            }
        }
        _position = last.End;
        _partialStart = last.End;
        _lastLeaf = lastLeaf;
        _lastLeafHash = hashes[^MerkleTree.HashSize..];
        return null;
    }

    /// <summary>Why the state cannot simply be extended (the last record changed, a last full tile is gone), or null.</summary>
    private string? CheckTail()
    {
        if (_lastLeaf is { } leaf)
        {
            var path = Path.Combine(_directory, leaf.File);
            var bytes = new byte[leaf.Length + 1];
            try
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                if (RandomAccess.Read(handle, bytes, leaf.Offset) != bytes.Length || bytes[^1] != (byte)'\n' ||
                    !MerkleTree.LeafHash(bytes.AsSpan(0, leaf.Length)).AsSpan().SequenceEqual(_lastLeafHash))
                {
                    return $"record {_size - 1} ({leaf.File} line {leaf.Line}) changed since the tree was built";
                }
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return $"{leaf.File} is gone";
            }
        }
        for (var t = 0; t < Levels; t++)
        {
            var full = FullTiles(_size, t);
            if (full > 0 && !_tiles.HasFull(t, full - 1))
            {
                return $"tile {TilePath.Of(t, full - 1)} is missing or not {TilePath.FullBytes} bytes";
            }
        }
        return null;
    }

    private void ResetState()
    {
        _size = 0;
        foreach (var level in _edge)
        {
            level.Clear();
        }
        _position = default;
        _partialStart = default;
        _lastLeaf = null;
        _lastLeafHash = null;
        _newIndexEntries.Clear();
    }

    private AuditTreeCatchUp Rebuild(string reason)
    {
        ResetState();
        _tiles.ClearCache();
        return Extend(reason);
    }

    /// <summary>Reads from the current position to the end of the log; with a reason, compares tiles before writing (a rebuild).</summary>
    private AuditTreeCatchUp Extend(string? rebuildReason)
    {
        var before = _size;
        _compare = rebuildReason is not null;
        _written = 0;
        _repaired = 0;
        _newIndexEntries.Clear();
        TreeScanEnd end;
        try
        {
            end = AuditTreeScanner.Scan(_directory, _position, AddLeaf);
        }
        finally
        {
            WritePendingTiles();
        }
        if (end.Stale)
        {
            if (rebuildReason is not null)
            {
                throw new InvalidOperationException("a scan from the start of the log cannot be stale");
            }
            return Rebuild($"the resume position {_position.File} offset {_position.Offset} is no longer in the log");
        }
        _position = end.Position;
        if (rebuildReason is null)
        {
            _index.Append(_newIndexEntries);
        }
        else
        {
            _index.Replace(_newIndexEntries);
        }
        _newIndexEntries.Clear();
        return new AuditTreeCatchUp
        {
            RecordsAdded = _size - before,
            Size = _size,
            TilesWritten = _written,
            TilesRepaired = _repaired,
            Rebuilt = rebuildReason is not null,
            RebuildReason = rebuildReason,
            StoppedAtFile = end.StopFile,
            StoppedAtLine = end.StopLine,
            StopReason = end.StopReason,
        };
    }

    private bool AddLeaf(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> line, in TreeLeaf leaf)
    {
        if (_edge[0].Count == 0)
        {
            _partialStart = leaf.Before;
        }
        var copy = hash.ToArray();
        _edge[0].Add(copy);
        _size++;
        _lastLeaf = leaf;
        _lastLeafHash = copy;
        for (var t = 0; t < Levels && _edge[t].Count == TilePath.Width; t++)
        {
            var data = new byte[TilePath.FullBytes];
            for (var i = 0; i < TilePath.Width; i++)
            {
                _edge[t][i].CopyTo(data, i * MerkleTree.HashSize);
            }
            _pendingTiles.Add((t, FullTiles(_size, t) - 1, data));
            if (_pendingTiles.Count == PendingTileBatch)
            {
                WritePendingTiles();
            }
            _edge[t].Clear();
            _edge[t + 1].Add(TileStore.FullTileRoot(data));
            if (t == 0)
            {
                _newIndexEntries.Add(new AuditTreeIndexEntry(_partialStart, leaf.After));
            }
        }
        return true;
    }

    /// <summary>
    /// Writes the full tiles completed so far, several at once: creating and renaming a file costs far more than
    /// hashing the 256 records of a tile, and the file system overlaps them.
    /// </summary>
    private void WritePendingTiles()
    {
        if (_pendingTiles.Count == 0)
        {
            return;
        }
        var wrote = 0;
        Parallel.ForEach(_pendingTiles, new ParallelOptions { MaxDegreeOfParallelism = TileWriters }, tile =>
        {
            if (_tiles.Write(tile.Level, tile.N, tile.Data, _compare))
            {
                Interlocked.Increment(ref wrote);
            }
        });
        _pendingTiles.Clear();
        if (_compare)
        {
            _repaired += wrote;
        }
        else
        {
            _written += wrote;
        }
    }

    /// <summary>
    /// <paramref name="width"/> consecutive hashes of level-<c>8t</c> nodes from entry <paramref name="from"/> of tile
    /// <paramref name="n"/> at tile level <paramref name="t"/>: from its file when full, from the right edge otherwise.
    /// </summary>
    private byte[] TileEntries(int t, long n, int from, int width)
    {
        if (n < FullTiles(_size, t))
        {
            var tile = _tiles.ReadFull(t, n)
                ?? throw new SignetException($"tile {TilePath.Of(t, n)} in {_directory} is missing or damaged; reopen the tree to rebuild it");
            return tile.AsSpan(from * MerkleTree.HashSize, width * MerkleTree.HashSize).ToArray();
        }
        var edge = _edge[t];
        if (n != FullTiles(_size, t) || from + width > edge.Count)
        {
            throw new InvalidOperationException($"tile {TilePath.Of(t, n)} entries {from}..{from + width} are beyond the tree of size {_size}");
        }
        var data = new byte[width * MerkleTree.HashSize];
        for (var i = 0; i < width; i++)
        {
            edge[from + i].CopyTo(data, i * MerkleTree.HashSize);
        }
        return data;
    }

    /// <summary>The hash of the complete subtree at <paramref name="level"/> (2^level leaves) number <paramref name="index"/>.</summary>
    private byte[] NodeAt(int level, long index)
    {
        var t = level / 8;
        var r = level % 8;
        var first = index << r;
        return TileStore.PerfectRoot(TileEntries(t, first / TilePath.Width, (int)(first % TilePath.Width), 1 << r));
    }

    /// <summary>MTH(D[lo:hi]).</summary>
    private byte[] RangeHash(long lo, long hi)
    {
        var n = hi - lo;
        if (System.Numerics.BitOperations.IsPow2(n) && lo % n == 0)
        {
            var level = System.Numerics.BitOperations.Log2((ulong)n);
            return NodeAt(level, lo >> level);
        }
        var k = MerkleTree.LargestPowerOfTwoBelow(n);
        return MerkleTree.NodeHash(RangeHash(lo, lo + k), RangeHash(lo + k, hi));
    }

    private void InclusionPath(long m, long lo, long hi, List<byte[]> proof)
    {
        var n = hi - lo;
        if (n == 1)
        {
            return;
        }
        var k = MerkleTree.LargestPowerOfTwoBelow(n);
        if (m < k)
        {
            InclusionPath(m, lo, lo + k, proof);
            proof.Add(RangeHash(lo + k, hi));
        }
        else
        {
            InclusionPath(m - k, lo + k, hi, proof);
            proof.Add(RangeHash(lo, lo + k));
        }
    }

    private void SubProof(long m, long lo, long hi, bool complete, List<byte[]> proof)
    {
        var n = hi - lo;
        if (m == n)
        {
            if (!complete)
            {
                proof.Add(RangeHash(lo, hi));
            }
            return;
        }
        var k = MerkleTree.LargestPowerOfTwoBelow(n);
        if (m <= k)
        {
            SubProof(m, lo, lo + k, complete, proof);
            proof.Add(RangeHash(lo + k, hi));
        }
        else
        {
            SubProof(m - k, lo + k, hi, false, proof);
            proof.Add(RangeHash(lo, lo + k));
        }
    }
}
