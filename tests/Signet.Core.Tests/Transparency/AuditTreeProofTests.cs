using Signet.Core.Tests.Audit;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class AuditTreeProofTests
{
    private const string Day = "2026-12-01.jsonl";

    [Fact]
    public void Proofs_EveryIndexAndSizeUpTo70_VerifyAndMatchReferenceRoots()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, Day, 0, 70);
        using var tree = AuditTree.Open(dir.Path);
        var leaves = TreeTestLog.LeafHashes(dir.Path);
        Assert.Equal(70, tree.Size);
        for (var size = 0; size <= 70; size++)
        {
            var root = tree.RootAt(size);
            Assert.Equal(MerkleTree.Root(leaves[..size]), root);
            for (var index = 0; index < size; index++)
            {
                Assert.Equal(leaves[index], tree.LeafHash(index));
                var proof = tree.InclusionProof(index, size);
                Assert.Equal(MerkleTree.InclusionProofLength(index, size), proof.Count);
                MerkleTree.VerifyInclusion(index, size, leaves[index], proof, root);
            }
            for (var old = 0; old <= size; old++)
            {
                var proof = tree.ConsistencyProof(old, size);
                Assert.Equal(MerkleTree.ConsistencyProofLength(old, size), proof.Count);
                MerkleTree.VerifyConsistency(old, size, MerkleTree.Root(leaves[..old]), root, proof);
            }
        }
    }

    [Fact]
    public void Proofs_RandomPairsOverSeveralTileLevels_Verify()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, Day, 0, 70_000);
        using var tree = AuditTree.Open(dir.Path);
        var leaves = TreeTestLog.LeafHashes(dir.Path);
        Assert.Equal(70_000, tree.Size);
        Assert.Equal(MerkleTree.Root(leaves), tree.RootAt(70_000));
        var random = new Random(16);
        for (var i = 0; i < 300; i++)
        {
            var size = random.NextInt64(1, 70_001);
            var index = random.NextInt64(0, size);
            var old = random.NextInt64(0, size + 1);
            var root = tree.RootAt(size);
            MerkleTree.VerifyInclusion(index, size, leaves[(int)index], tree.InclusionProof(index, size), root);
            MerkleTree.VerifyConsistency(old, size, tree.RootAt(old), root, tree.ConsistencyProof(old, size));
        }
        foreach (var size in new[] { 255, 256, 257, 65_535, 65_536, 65_537 })
        {
            Assert.Equal(MerkleTree.Root(leaves[..size]), tree.RootAt(size));
        }
    }

    [Fact]
    public void VerifyInclusion_WrongProofs_RejectedWithReason()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, Day, 0, 300);
        using var tree = AuditTree.Open(dir.Path);
        var root = tree.RootAt(300);
        var leaf = tree.LeafHash(77);
        var proof = tree.InclusionProof(77, 300);

        var other = Assert.Throws<ProofException>(() => MerkleTree.VerifyInclusion(78, 300, leaf, tree.InclusionProof(78, 300), root));
        Assert.Contains("does not match the expected root", other.Message);
        var otherIndex = Assert.Throws<ProofException>(() => MerkleTree.VerifyInclusion(76, 300, leaf, proof, root));
        Assert.Contains("index 76", otherIndex.Message);
        var truncated = Assert.Throws<ProofException>(() => MerkleTree.VerifyInclusion(77, 300, leaf, proof.Take(proof.Count - 1).ToList(), root));
        Assert.Contains($"{proof.Count - 1} hashes where index 77 in a tree of size 300 needs {proof.Count}", truncated.Message);
        var extra = Assert.Throws<ProofException>(() => MerkleTree.VerifyInclusion(77, 300, leaf, [.. proof, new byte[32]], root));
        Assert.Contains($"{proof.Count + 1} hashes", extra.Message);
        var wrongRoot = Assert.Throws<ProofException>(() => MerkleTree.VerifyInclusion(77, 300, leaf, proof, tree.RootAt(299)));
        Assert.Contains("does not match the expected root", wrongRoot.Message);
        var shortHash = Assert.Throws<ProofException>(() => MerkleTree.VerifyInclusion(77, 300, leaf, [.. proof.Take(proof.Count - 1), new byte[31]], root));
        Assert.Contains("is 31 bytes", shortHash.Message);
    }

    [Fact]
    public void VerifyConsistency_WrongProofs_RejectedWithReason()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, Day, 0, 300);
        using var tree = AuditTree.Open(dir.Path);
        var oldRoot = tree.RootAt(100);
        var newRoot = tree.RootAt(300);
        var proof = tree.ConsistencyProof(100, 300);
        MerkleTree.VerifyConsistency(100, 300, oldRoot, newRoot, proof);

        var truncated = Assert.Throws<ProofException>(() => MerkleTree.VerifyConsistency(100, 300, oldRoot, newRoot, proof.Skip(1).ToList()));
        Assert.Contains("sizes 100 to 300 need", truncated.Message);
        Assert.Throws<ProofException>(() => MerkleTree.VerifyConsistency(100, 300, oldRoot, newRoot, [.. proof, new byte[32]]));
        var wrongOld = Assert.Throws<ProofException>(() => MerkleTree.VerifyConsistency(100, 300, tree.RootAt(99), newRoot, proof));
        Assert.Contains("old root", wrongOld.Message);
        var wrongNew = Assert.Throws<ProofException>(() => MerkleTree.VerifyConsistency(100, 300, oldRoot, tree.RootAt(299), proof));
        Assert.Contains("new root", wrongNew.Message);
        var otherSizes = Assert.Throws<ProofException>(() => MerkleTree.VerifyConsistency(101, 300, tree.RootAt(101), newRoot, proof));
        Assert.Contains("101", otherSizes.Message);
        Assert.Throws<ProofException>(() => MerkleTree.VerifyConsistency(300, 100, newRoot, oldRoot, proof));
    }

    [Fact]
    public void AuditTree_OutOfRangeArguments_Throw()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, Day, 0, 10);
        using var tree = AuditTree.Open(dir.Path);
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.RootAt(11));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(10, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(5, 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(6, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.LeafHash(-1));
    }
}
