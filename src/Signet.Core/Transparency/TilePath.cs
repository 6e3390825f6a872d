using System.Globalization;
using System.Text;

namespace Signet.Transparency;

/// <summary>C2SP tlog-tiles paths: <c>tile/&lt;L&gt;/&lt;N&gt;[.p/&lt;W&gt;]</c>, N in 3-digit groups (<c>x001/x234/067</c>).</summary>
internal static class TilePath
{
    /// <summary>Hashes in a full tile (height 8).</summary>
    public const int Width = 256;

    /// <summary>Bytes in a full tile.</summary>
    public const int FullBytes = Width * MerkleTree.HashSize;

    /// <summary>Full tiles at tile level <paramref name="level"/> in a tree of <paramref name="size"/> leaves.</summary>
    public static long FullTiles(long size, int level) => 8 * (level + 1) >= 64 ? 0 : size >> (8 * (level + 1));

    /// <summary>Hashes at tile level <paramref name="level"/> (complete subtrees of 256^level leaves) in a tree of <paramref name="size"/> leaves.</summary>
    public static long Entries(long size, int level) => 8 * level >= 64 ? 0 : size >> (8 * level);

    /// <summary>The relative path (with '/') of tile <paramref name="n"/> at <paramref name="level"/>, partial when <paramref name="width"/> is below 256.</summary>
    public static string Of(int level, long n, int width = Width)
    {
        var sb = new StringBuilder("tile/");
        sb.Append(level.ToString(CultureInfo.InvariantCulture)).Append('/');
        sb.Append(EncodeIndex(n));
        if (width < Width)
        {
            sb.Append(".p/").Append(width.ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>Encodes a tile index into zero-padded 3-digit path elements, all but the last prefixed with <c>x</c>.</summary>
    public static string EncodeIndex(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var groups = new List<string>();
        do
        {
            groups.Add((n % 1000).ToString("D3", CultureInfo.InvariantCulture));
            n /= 1000;
        }
        while (n > 0);
        groups.Reverse();
        for (var i = 0; i < groups.Count - 1; i++)
        {
            groups[i] = "x" + groups[i];
        }
        return string.Join('/', groups);
    }

    /// <summary>The file of a tile under the audit directory.</summary>
    public static string File(string auditDirectory, int level, long n, int width = Width) =>
        Path.Combine(auditDirectory, Of(level, n, width).Replace('/', Path.DirectorySeparatorChar));
}
