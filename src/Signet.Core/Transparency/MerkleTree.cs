using System.Numerics;
using System.Security.Cryptography;

namespace Signet.Transparency;

/// <summary>
/// RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256: leaf and node hashes, the root of a list of leaves, and the
/// verification of inclusion and consistency proofs.
/// </summary>
/// <remarks>
/// A leaf hash is <c>SHA-256(0x00 || entry)</c>, an interior node <c>SHA-256(0x01 || left || right)</c>, the empty tree
/// <c>SHA-256("")</c>. Proofs are lists of 32-byte hashes in the order of RFC 6962 §2.1.1 and §2.1.2 (the leaf's or old
/// tree's side first); verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.
/// </remarks>
public static class MerkleTree
{
    /// <summary>The size of every hash (SHA-256), in bytes.</summary>
    public const int HashSize = 32;

    /// <summary>The leaf hash of an entry: <c>SHA-256(0x00 || entry)</c>.</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> entry)
    {
        var hash = new byte[HashSize];
        LeafHash(entry, hash);
        return hash;
    }

    /// <summary>Writes the leaf hash of an entry into <paramref name="destination"/> (32 bytes).</summary>
    internal static void LeafHash(ReadOnlySpan<byte> entry, Span<byte> destination)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(entry.Length + 1);
        buffer[0] = 0;
        entry.CopyTo(buffer.AsSpan(1));
        SHA256.HashData(buffer.AsSpan(0, entry.Length + 1), destination);
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>The hash of an interior node: <c>SHA-256(0x01 || left || right)</c>.</summary>
    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        RequireHash(left, nameof(left));
        RequireHash(right, nameof(right));
        Span<byte> buffer = stackalloc byte[1 + 2 * HashSize];
        buffer[0] = 1;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashSize)..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>The root of the empty tree: SHA-256 of the empty string.</summary>
    public static byte[] EmptyRoot() => SHA256.HashData(ReadOnlySpan<byte>.Empty);

    /// <summary>The Merkle tree hash (RFC 6962 MTH) of a list of leaf hashes, computed directly (no tiles).</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        return leafHashes.Count == 0 ? EmptyRoot() : RangeRoot(leafHashes, 0, leafHashes.Count);
    }

    private static byte[] RangeRoot(IReadOnlyList<byte[]> leaves, int start, int end)
    {
        if (end - start == 1)
        {
            RequireHash(leaves[start], "leafHashes");
            return leaves[start];
        }
        var k = (int)LargestPowerOfTwoBelow(end - start);
        return NodeHash(RangeRoot(leaves, start, start + k), RangeRoot(leaves, start + k, end));
    }

    /// <summary>The number of hashes in an inclusion proof for leaf <paramref name="index"/> of a tree of <paramref name="size"/> leaves.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative or not below <paramref name="size"/>.</exception>
    public static int InclusionProofLength(long index, long size)
    {
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is not in a tree of size {size}");
        }
        var inner = 64 - BitOperations.LeadingZeroCount((ulong)(index ^ (size - 1)));
        var border = BitOperations.PopCount((ulong)index >> inner);
        return inner + border;
    }

    /// <summary>The number of hashes in a consistency proof from a tree of <paramref name="oldSize"/> leaves to one of <paramref name="newSize"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or <paramref name="oldSize"/> exceeds <paramref name="newSize"/>.</exception>
    public static int ConsistencyProofLength(long oldSize, long newSize)
    {
        if (oldSize < 0 || oldSize > newSize)
        {
            throw new ArgumentOutOfRangeException(nameof(oldSize), $"old size {oldSize} is not between 0 and the new size {newSize}");
        }
        if (oldSize == 0 || oldSize == newSize)
        {
            return 0;
        }
        var index = oldSize - 1;
        var inner = 64 - BitOperations.LeadingZeroCount((ulong)(index ^ (newSize - 1)));
        var border = BitOperations.PopCount((ulong)index >> inner);
        var shift = BitOperations.TrailingZeroCount(oldSize);
        var seed = BitOperations.IsPow2(oldSize) ? 0 : 1;
        return seed + inner - shift + border;
    }

    /// <summary>Checks that <paramref name="leafHash"/> is leaf <paramref name="index"/> of the tree of <paramref name="size"/> leaves whose root is <paramref name="root"/>.</summary>
    /// <exception cref="ProofException">The proof does not show that (the message says what failed).</exception>
    public static void VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (index < 0 || size < 0 || index >= size)
        {
            throw new ProofException($"inclusion proof: index {index} is not in a tree of size {size}");
        }
        RequireProofHash(leafHash, "the leaf hash");
        RequireProofHash(root, "the root");
        var expected = InclusionProofLength(index, size);
        if (proof.Count != expected)
        {
            throw new ProofException($"inclusion proof: {proof.Count} hashes where index {index} in a tree of size {size} needs {expected}");
        }
        for (var i = 0; i < proof.Count; i++)
        {
            RequireProofHash(proof[i], $"inclusion proof hash {i}");
        }

        var fn = index;
        var sn = size - 1;
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if ((fn & 1) == 1 || fn == sn)
            {
                r = NodeHash(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = NodeHash(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0 || !CryptographicOperations.FixedTimeEquals(r, root))
        {
            throw new ProofException($"inclusion proof: the root computed for index {index} in a tree of size {size} ({Convert.ToHexStringLower(r)}) does not match the expected root ({Convert.ToHexStringLower(root)})");
        }
    }

    /// <summary>Checks that the tree of <paramref name="newSize"/> leaves with root <paramref name="newRoot"/> extends the tree of <paramref name="oldSize"/> leaves with root <paramref name="oldRoot"/>.</summary>
    /// <exception cref="ProofException">The proof does not show that (the message says what failed).</exception>
    public static void VerifyConsistency(long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (oldSize < 0 || oldSize > newSize)
        {
            throw new ProofException($"consistency proof: old size {oldSize} is not between 0 and the new size {newSize}");
        }
        RequireProofHash(oldRoot, "the old root");
        RequireProofHash(newRoot, "the new root");
        var expected = ConsistencyProofLength(oldSize, newSize);
        if (proof.Count != expected)
        {
            throw new ProofException($"consistency proof: {proof.Count} hashes where sizes {oldSize} to {newSize} need {expected}");
        }
        for (var i = 0; i < proof.Count; i++)
        {
            RequireProofHash(proof[i], $"consistency proof hash {i}");
        }
        if (oldSize == 0)
        {
            if (!CryptographicOperations.FixedTimeEquals(oldRoot, EmptyRoot()))
            {
                throw new ProofException("consistency proof: the old root of a tree of size 0 must be the empty tree's root");
            }
            return;
        }
        if (oldSize == newSize)
        {
            if (!CryptographicOperations.FixedTimeEquals(oldRoot, newRoot))
            {
                throw new ProofException($"consistency proof: two different roots for the same size {oldSize}");
            }
            return;
        }

        var path = new List<byte[]>(proof.Count + 1);
        if (BitOperations.IsPow2(oldSize))
        {
            path.Add(oldRoot.ToArray());
        }
        path.AddRange(proof);
        var fn = oldSize - 1;
        var sn = newSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }
        var fr = path[0];
        var sr = path[0];
        for (var i = 1; i < path.Count; i++)
        {
            var c = path[i];
            if (sn == 0)
            {
                throw new ProofException($"consistency proof: too many hashes for sizes {oldSize} to {newSize}");
            }
            if ((fn & 1) == 1 || fn == sn)
            {
                fr = NodeHash(c, fr);
                sr = NodeHash(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = NodeHash(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (!CryptographicOperations.FixedTimeEquals(fr, oldRoot))
        {
            throw new ProofException($"consistency proof: the old root computed for size {oldSize} ({Convert.ToHexStringLower(fr)}) does not match the expected old root ({Convert.ToHexStringLower(oldRoot)})");
        }
        if (sn != 0 || !CryptographicOperations.FixedTimeEquals(sr, newRoot))
        {
            throw new ProofException($"consistency proof: the new root computed for size {newSize} ({Convert.ToHexStringLower(sr)}) does not match the expected new root ({Convert.ToHexStringLower(newRoot)})");
        }
    }

    /// <summary>The largest power of two strictly below <paramref name="n"/> (n ≥ 2).</summary>
    internal static long LargestPowerOfTwoBelow(long n) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)(n - 1)));

    private static void RequireHash(ReadOnlySpan<byte> hash, string name)
    {
        if (hash.Length != HashSize)
        {
            throw new ArgumentException($"a hash is {HashSize} bytes, not {hash.Length}", name);
        }
    }

    private static void RequireProofHash(ReadOnlySpan<byte> hash, string what)
    {
        if (hash.Length != HashSize)
        {
            throw new ProofException($"{what} is {hash.Length} bytes, not {HashSize}");
        }
    }
}
