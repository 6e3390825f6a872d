using System.Diagnostics;
using System.Text;
using Signet.Audit;
using Signet.Core.Tests.Audit;
using Signet.Tests.Shared;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

/// <summary>
/// Our tiles, roots and proofs read and checked by Go's golang.org/x/mod/sumdb/tlog (code this project did not write),
/// through the driver in tests/interop/go/tlogcheck.
/// </summary>
public sealed class AuditTreeGoInteropTests
{

    [Fact]
    public async Task GoTlog_LogWrittenByAuditLog_AgreesOnRootEntriesAndProofs()
    {
        using var dir = new TempDirectory();
        TestReceipts.CopyReferenceLog(dir.Path);
        await using (var log = AuditLog.Open(dir.Path))
        {
            for (var i = 0; i < 600; i++)
            {
                await log.AppendAsync(TestReceipts.V1(i));
            }
        }
        using var tree = AuditTree.Open(dir.Path);
        var lines = TreeTestLog.Lines(dir.Path);
        Assert.Equal(lines.Count, tree.Size);
        var commands = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            commands.Append($"entry {i} {Convert.ToHexStringLower(lines[i].Bytes)}\n");
        }
        RunChecks(dir.Path, tree, tree.Size, [0, 1, 255, 256, 300, tree.Size - 1], [1, 5, 256, 257, 511, tree.Size - 1], commands);
    }

    [Fact]
    public void GoTlog_SeveralTileLevelsAndSizes_AgreeOnRootsAndProofs()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 70_000);
        using var tree = AuditTree.Open(dir.Path);
        foreach (var size in new long[] { 70_000, 65_536, 65_537, 300 })
        {
            RunChecks(dir.Path, tree, size, [0, 255, 256, 65_535, size - 1, size / 3], [1, 256, 4_095, 65_535, size / 2, size - 1], new StringBuilder());
        }
    }

    [Fact]
    public void GoTlog_DamagedTile_Fails()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 600);
        using var tree = AuditTree.Open(dir.Path);
        tree.WriteCheckpointTiles(600);
        var root = Convert.ToHexStringLower(tree.RootAt(600));
        var tile = File.ReadAllBytes(dir.File("tile/0/001"));
        tile[(300 - 256) * 32 + 5] ^= 1;
        File.WriteAllBytes(dir.File("tile/0/001"), tile);
        var line = TreeTestLog.Lines(dir.Path)[300].Bytes;
        var (code, output) = Run(dir.Path, 600, root, $"entry 300 {Convert.ToHexStringLower(line)}\nrecord 300 {Proof(tree.InclusionProof(300, 600))}\n");
        Assert.Equal(1, code);
        Assert.True(output.Contains("FAIL entry 300", StringComparison.Ordinal), output);
    }

    private static void RunChecks(string directory, AuditTree tree, long size, long[] indexes, long[] oldSizes, StringBuilder commands)
    {
        tree.WriteCheckpointTiles(size);
        var root = tree.RootAt(size);
        foreach (var index in indexes.Where(i => i >= 0 && i < size).Distinct())
        {
            commands.Append($"record {index} {Proof(tree.InclusionProof(index, size))}\n");
        }
        foreach (var old in oldSizes.Where(o => o > 0 && o <= size).Distinct())
        {
            commands.Append($"tree {old} {Convert.ToHexStringLower(tree.RootAt(old))} {Proof(tree.ConsistencyProof(old, size))}\n");
        }
        var (code, output) = Run(directory, size, Convert.ToHexStringLower(root), commands.ToString());
        Assert.True(code == 0, output);
        Assert.Contains($"ok root {size} {Convert.ToHexStringLower(root)}", output);
        Assert.Equal(commands.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length + 1,
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));
    }

    private static string Proof(IReadOnlyList<byte[]> proof) =>
        proof.Count == 0 ? "-" : string.Join(',', proof.Select(Convert.ToHexStringLower));

    private static (int Code, string Output) Run(string directory, long size, string root, string commands)
    {
        var (code, stdout, stderr) = GoDriver.Run("tlogcheck", [directory, size.ToString(System.Globalization.CultureInfo.InvariantCulture), root], commands);
        return (code, stdout + stderr);
    }
}
