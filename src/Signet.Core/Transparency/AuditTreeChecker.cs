namespace Signet.Transparency;

/// <summary>
/// <see cref="AuditTree.Check"/>: rebuilds the tree in memory from the JSONL and compares every full tile file and the
/// tree's right edge with it, stopping at the first difference.
/// </summary>
internal sealed class AuditTreeChecker(string directory, long size, List<byte[]>[] edge, IProgress<long>? progress)
{
    private readonly List<byte[]>[] _shadow = [.. edge.Select(_ => new List<byte[]>())];
    private readonly TreeLeaf[] _places = new TreeLeaf[TilePath.Width];
    private long _leaves;
    private AuditTreeCheck? _found;

    public AuditTreeCheck Run()
    {
        if (size > 0)
        {
            AuditTreeScanner.Scan(directory, default, OnLeaf);
        }
        if (_found is not null)
        {
            return _found;
        }
        if (_leaves < size)
        {
            return new AuditTreeCheck
            {
                Size = size,
                LeavesChecked = _leaves,
                FirstDifferentIndex = _leaves,
                TilePath = TilePath.Of(0, _leaves / TilePath.Width),
                Message = $"the audit log has {_leaves} records where the tree has {size}: record {_leaves} and later are gone",
            };
        }
        for (var t = 0; t < edge.Length; t++)
        {
            for (var i = 0; i < edge[t].Count; i++)
            {
                if (i >= _shadow[t].Count || !edge[t][i].AsSpan().SequenceEqual(_shadow[t][i]))
                {
                    var index = ((TilePath.FullTiles(size, t) * TilePath.Width) + i) << (8 * t);
                    var place = t == 0 ? _places[i] : default;
                    return new AuditTreeCheck
                    {
                        Size = size,
                        LeavesChecked = t == 0 ? index : size,
                        FirstDifferentIndex = index,
                        File = place.File is null ? null : Path.Combine(directory, place.File),
                        Line = place.Line,
                        Message = $"the tree's in-memory hash at level {8 * t} for records from {index} differs from the JSONL",
                    };
                }
            }
        }
        return new AuditTreeCheck { Ok = true, Size = size, LeavesChecked = size, Message = $"all {size} leaves and their tiles match the audit log" };
    }

    private bool OnLeaf(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> line, in TreeLeaf leaf)
    {
        _places[_shadow[0].Count] = leaf;
        _shadow[0].Add(hash.ToArray());
        _leaves++;
        if (progress is not null && _leaves % 65536 == 0)
        {
            progress.Report(_leaves);
        }
        for (var t = 0; t < _shadow.Length - 1 && _shadow[t].Count == TilePath.Width; t++)
        {
            var n = TilePath.FullTiles(_leaves, t) - 1;
            var data = new byte[TilePath.FullBytes];
            for (var i = 0; i < TilePath.Width; i++)
            {
                _shadow[t][i].CopyTo(data, i * MerkleTree.HashSize);
            }
            if (Compare(t, n, data) is { } difference)
            {
                _found = difference;
                return false;
            }
            _shadow[t].Clear();
            _shadow[t + 1].Add(TileStore.FullTileRoot(data));
        }
        return _leaves < size;
    }

    private AuditTreeCheck? Compare(int t, long n, byte[] expected)
    {
        var path = TilePath.Of(t, n);
        byte[]? stored;
        try
        {
            stored = File.ReadAllBytes(TilePath.File(directory, t, n));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            stored = null;
        }
        if (stored is not null && stored.AsSpan().SequenceEqual(expected))
        {
            return null;
        }
        var i = 0;
        while (stored is not null && (i + 1) * MerkleTree.HashSize <= stored.Length &&
               stored.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize).SequenceEqual(expected.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize)))
        {
            i++;
        }
        var index = n * TilePath.Width + i << (8 * t);
        var place = t == 0 ? _places[i] : default;
        var what = stored is null ? "is missing" : stored.Length != TilePath.FullBytes ? $"is {stored.Length} bytes, not {TilePath.FullBytes}" : $"differs from the JSONL at hash {i}";
        return new AuditTreeCheck
        {
            Size = size,
            LeavesChecked = index,
            FirstDifferentIndex = index,
            File = place.File is null ? null : Path.Combine(directory, place.File),
            Line = place.Line,
            TilePath = path,
            Message = t == 0
                ? $"tile {path} {what}: record {index} ({place.File} line {place.Line}) is not what the tree holds"
                : $"tile {path} {what}: the records from {index} are not what the tree holds",
        };
    }
}
