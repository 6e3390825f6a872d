using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class MerkleTreeTests
{
    // The leaves and roots of the RFC 6962 test tree used by the Certificate Transparency implementations (and
    // checked here against Go's golang.org/x/mod/sumdb/tlog by the interop test).
    private static readonly string[] RfcLeaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

    private static readonly string[] RfcRoots =
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    private static List<byte[]> RfcLeafHashes() => [.. RfcLeaves.Select(l => MerkleTree.LeafHash(Convert.FromHexString(l)))];

    [Fact]
    public void EmptyRoot_IsSha256OfNothing() =>
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(MerkleTree.EmptyRoot()));

    [Fact]
    public void LeafHash_EmptyEntry_IsSha256OfZeroByte() =>
        Assert.Equal("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", Convert.ToHexStringLower(MerkleTree.LeafHash([])));

    [Fact]
    public void NodeHash_PrefixesOne() =>
        Assert.Equal(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([1, .. new byte[32], .. Enumerable.Repeat((byte)0xff, 32)])),
            Convert.ToHexStringLower(MerkleTree.NodeHash(new byte[32], Enumerable.Repeat((byte)0xff, 32).ToArray())));

    [Fact]
    public void Root_RfcTestTree_MatchesKnownRoots()
    {
        var leaves = RfcLeafHashes();
        for (var n = 1; n <= leaves.Count; n++)
        {
            Assert.Equal(RfcRoots[n - 1], Convert.ToHexStringLower(MerkleTree.Root(leaves[..n])));
        }
        Assert.Equal(MerkleTree.EmptyRoot(), MerkleTree.Root([]));
    }

    [Fact]
    public void ProofLengths_KnownCases()
    {
        Assert.Equal(0, MerkleTree.InclusionProofLength(0, 1));
        Assert.Equal(3, MerkleTree.InclusionProofLength(0, 8));
        Assert.Equal(3, MerkleTree.InclusionProofLength(5, 7));
        Assert.Equal(2, MerkleTree.InclusionProofLength(6, 7));
        Assert.Equal(1, MerkleTree.ConsistencyProofLength(4, 8));
        Assert.Equal(4, MerkleTree.ConsistencyProofLength(3, 7));
        Assert.Equal(0, MerkleTree.ConsistencyProofLength(0, 7));
        Assert.Equal(0, MerkleTree.ConsistencyProofLength(7, 7));
    }

    [Fact]
    public void VerifyInclusion_IndexNotBelowSize_SaysSo()
    {
        var e = Assert.Throws<ProofException>(() => MerkleTree.VerifyInclusion(3, 3, new byte[32], [], new byte[32]));
        Assert.Contains("index 3 is not in a tree of size 3", e.Message);
    }

    [Fact]
    public void VerifyConsistency_OldSizeZero_NeedsEmptyRoot()
    {
        MerkleTree.VerifyConsistency(0, 5, MerkleTree.EmptyRoot(), new byte[32], []);
        Assert.Throws<ProofException>(() => MerkleTree.VerifyConsistency(0, 5, new byte[32], new byte[32], []));
    }
}
