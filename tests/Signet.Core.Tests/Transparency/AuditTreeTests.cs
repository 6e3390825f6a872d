using Signet.Core.Tests.Audit;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class AuditTreeTests
{
    private static string[] TileFiles(string dir) =>
        [.. Directory.GetFiles(Path.Combine(dir, "tile"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)];

    [Theory]
    [InlineData(0, "000")]
    [InlineData(5, "005")]
    [InlineData(999, "999")]
    [InlineData(1000, "x001/000")]
    [InlineData(1234067, "x001/x234/067")]
    public void TilePath_EncodesIndexInThreeDigitGroups(long n, string expected)
    {
        Assert.Equal(expected, TilePath.EncodeIndex(n));
        Assert.Equal($"tile/2/{expected}.p/17", TilePath.Of(2, n, 17));
        Assert.Equal($"tile/0/{expected}", TilePath.Of(0, n));
    }

    [Fact]
    public void Tiles_70000Records_AreTheSpecsExampleSet()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 70_000);
        using var tree = AuditTree.Open(dir.Path);
        Assert.Equal(273 + 1, tree.OpenCatchUp.TilesWritten);
        tree.WriteCheckpointTiles(70_000);

        var expected = Enumerable.Range(0, 273).Select(n => "tile/0/" + TilePath.EncodeIndex(n))
            .Append("tile/0/273.p/112").Append("tile/1/000").Append("tile/1/001.p/17").Append("tile/2/000.p/1")
            .Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, TileFiles(dir.Path));
        Assert.Equal(8192, new FileInfo(dir.File("tile/0/000")).Length);
        Assert.Equal(8192, new FileInfo(dir.File("tile/1/000")).Length);
        Assert.Equal(112 * 32, new FileInfo(dir.File("tile/0/273.p/112")).Length);
        Assert.Equal(17 * 32, new FileInfo(dir.File("tile/1/001.p/17")).Length);
        Assert.Equal(32, new FileInfo(dir.File("tile/2/000.p/1")).Length);

        // A level-1 hash is the root of the level-0 tile below it; the partial tiles hold the first W hashes.
        var leaves = TreeTestLog.LeafHashes(dir.Path);
        Assert.Equal(MerkleTree.Root(leaves[256..512]), File.ReadAllBytes(dir.File("tile/1/000"))[32..64]);
        Assert.Equal(leaves[273 * 256], File.ReadAllBytes(dir.File("tile/0/273.p/112"))[..32]);
        Assert.Equal(MerkleTree.Root(leaves[..65536]), File.ReadAllBytes(dir.File("tile/2/000.p/1")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.File("tile/0/000")));
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Tiles_256Records_OneFullTileAndPartialLevel1()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 256);
        using var tree = AuditTree.Open(dir.Path);
        tree.WriteCheckpointTiles(256);
        Assert.Equal(["tile/0/000", "tile/1/000.p/1"], TileFiles(dir.Path));
        tree.WriteCheckpointTiles(10);
        Assert.Contains("tile/0/000.p/10", TileFiles(dir.Path));
    }

    [Fact]
    public void CatchUp_SeveralDayFilesBlankTornAndBadLines_LeavesAreCompleteJsonLines()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 300);
        File.AppendAllText(dir.File("2026-12-01.jsonl"), "\n  \r\n{\"torn\":");
        TreeTestLog.Append(dir.Path, "2026-12-02.jsonl", 300, 200);
        File.WriteAllText(dir.File("notes.jsonl"), "{\"not\":\"a day file\"}\n");
        using var tree = AuditTree.Open(dir.Path);
        Assert.Equal(500, tree.Size);

        TreeTestLog.Append(dir.Path, "2026-12-02.jsonl", 500, 100);
        File.AppendAllText(dir.File("2026-12-02.jsonl"), "{\"i\":600");
        var more = tree.CatchUp();
        Assert.Equal(100, more.RecordsAdded);
        Assert.False(more.Rebuilt, more.RebuildReason);
        Assert.Equal(600, tree.Size);

        File.AppendAllText(dir.File("2026-12-02.jsonl"), "}\n");
        TreeTestLog.Append(dir.Path, "2026-12-03.jsonl", 601, 10);
        File.AppendAllText(dir.File("2026-12-03.jsonl"), "[1,2]\n");
        TreeTestLog.Append(dir.Path, "2026-12-03.jsonl", 700, 5);
        var stopped = tree.CatchUp();
        Assert.Equal(11, stopped.RecordsAdded);
        Assert.Equal(dir.File("2026-12-03.jsonl"), stopped.StoppedAtFile);
        Assert.Equal(11, stopped.StoppedAtLine);
        Assert.Contains("not a JSON object", stopped.StopReason);
        Assert.Equal(611, tree.Size);

        var leaves = TreeTestLog.LeafHashes(dir.Path);
        Assert.Equal(MerkleTree.Root(leaves[..611]), tree.RootAt(611));

        var first = tree.ReadEntry(0);
        Assert.Equal((dir.File("2026-12-01.jsonl"), 1L), (first.Path, first.LineNumber));
        Assert.Equal(TreeTestLog.Record(0), System.Text.Encoding.UTF8.GetString(first.Line));
        var second = tree.ReadEntry(300);
        Assert.Equal((dir.File("2026-12-02.jsonl"), 1L), (second.Path, second.LineNumber));
        var joined = tree.ReadEntry(600);
        Assert.Equal((dir.File("2026-12-02.jsonl"), 301L), (joined.Path, joined.LineNumber));
        Assert.Equal("{\"i\":600}", System.Text.Encoding.UTF8.GetString(joined.Line));
        var last = tree.ReadEntry(610);
        Assert.Equal((dir.File("2026-12-03.jsonl"), 10L), (last.Path, last.LineNumber));
        Assert.Equal(MerkleTree.LeafHash(tree.ReadEntry(299).Line), tree.LeafHash(299));

        using var reopened = AuditTree.Open(dir.Path);
        Assert.False(reopened.OpenCatchUp.Rebuilt);
        Assert.Equal(611, reopened.Size);
        Assert.Equal(tree.RootAt(611), reopened.RootAt(611));
        Assert.True(reopened.Check().Ok);
    }

    [Fact]
    public void Open_AfterUnchangedLog_ResumesWithoutRebuildingOrRewriting()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 1000);
        using (AuditTree.Open(dir.Path))
        {
        }
        var written = File.GetLastWriteTimeUtc(dir.File("tile/0/000"));
        using var tree = AuditTree.Open(dir.Path);
        Assert.False(tree.OpenCatchUp.Rebuilt, tree.OpenCatchUp.RebuildReason);
        Assert.Equal(0, tree.OpenCatchUp.TilesWritten);
        Assert.Equal(1000 - 768, tree.OpenCatchUp.RecordsAdded);
        Assert.Equal(written, File.GetLastWriteTimeUtc(dir.File("tile/0/000")));
    }

    [Theory]
    [InlineData("delete", "tile/0/001")]
    [InlineData("truncate", "tile/0/001")]
    [InlineData("corrupt", "tile/0/003")]
    [InlineData("delete-index", "tree.index")]
    [InlineData("corrupt-level1", "tile/1/000")]
    public void Open_DamagedTilesOrState_RebuildsFromTheRecords(string damage, string file)
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 70_000);
        byte[] root;
        byte[] original;
        using (var tree = AuditTree.Open(dir.Path))
        {
            root = tree.RootAt(70_000);
            original = File.ReadAllBytes(dir.File(file == "tree.index" ? "tile/0/000" : file));
        }
        var path = dir.File(file);
        switch (damage)
        {
            case "delete" or "delete-index":
                File.Delete(path);
                break;
            case "truncate":
                File.WriteAllBytes(path, original[..100]);
                break;
            default:
                var bytes = File.ReadAllBytes(path);
                bytes[^1] ^= 1;
                File.WriteAllBytes(path, bytes);
                break;
        }

        using var reopened = AuditTree.Open(dir.Path);
        Assert.True(reopened.OpenCatchUp.Rebuilt);
        Assert.NotNull(reopened.OpenCatchUp.RebuildReason);
        Assert.Equal(damage == "delete-index" ? 0 : 1, reopened.OpenCatchUp.TilesRepaired);
        Assert.Equal(70_000, reopened.Size);
        Assert.Equal(root, reopened.RootAt(70_000));
        if (damage != "delete-index")
        {
            Assert.Equal(original, File.ReadAllBytes(path));
        }
        Assert.True(File.Exists(dir.File("tree.index")));
        Assert.True(reopened.Check().Ok);
    }

    [Fact]
    public void Check_RewrittenRecord_NamesFirstIndexFileAndLine()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 400);
        TreeTestLog.Append(dir.Path, "2026-12-02.jsonl", 400, 600);
        using var tree = AuditTree.Open(dir.Path);
        Assert.True(tree.Check().Ok);

        var path = dir.File("2026-12-02.jsonl");
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text.Replace("{\"i\":500,", "{\"i\":500, ", StringComparison.Ordinal));
        var check = tree.Check();
        Assert.False(check.Ok);
        Assert.Equal(500, check.FirstDifferentIndex);
        Assert.Equal(path, check.File);
        Assert.Equal(101, check.Line);
        Assert.Equal("tile/0/001", check.TilePath);
        Assert.Contains("record 500", check.Message);

        var progress = new List<long>();
        Assert.True(AuditTree.Open(dir.Path).Check(new SyncProgress(progress.Add)).Ok);
    }

    [Fact]
    public void ReadEntry_RecordRewrittenSinceTreeBuilt_RefusesIt()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 600);
        using var tree = AuditTree.Open(dir.Path);
        var path = dir.File("2026-12-01.jsonl");
        File.WriteAllText(path, File.ReadAllText(path).Replace("{\"i\":300,", "{\"i\":301,", StringComparison.Ordinal));
        var e = Assert.Throws<SignetException>(() => tree.ReadEntry(300));
        Assert.Contains("record 300 is no longer in the audit log", e.Message);
        Assert.Equal(299, tree.ReadEntry(299).LineNumber - 1);
    }

    [Fact]
    public void Check_RecordInPartialTileRewritten_Found()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 300);
        using var tree = AuditTree.Open(dir.Path);
        var path = dir.File("2026-12-01.jsonl");
        File.WriteAllText(path, File.ReadAllText(path).Replace("{\"i\":290,", "{\"i\":291,", StringComparison.Ordinal));
        var check = tree.Check();
        Assert.False(check.Ok);
        Assert.Equal(290, check.FirstDifferentIndex);
        Assert.Equal(291, check.Line);
    }

    [Fact]
    public void CatchUp_LastRecordChangedUnderneath_Rebuilds()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 300);
        using var tree = AuditTree.Open(dir.Path);
        var path = dir.File("2026-12-01.jsonl");
        var lines = File.ReadAllLines(path);
        File.WriteAllText(path, string.Join('\n', lines[..^1]) + "\n{\"repair\":true}\n");
        var result = tree.CatchUp();
        Assert.True(result.Rebuilt);
        Assert.Contains("changed", result.RebuildReason);
        Assert.Equal(300, tree.Size);
        Assert.Equal(MerkleTree.Root(TreeTestLog.LeafHashes(dir.Path)), tree.RootAt(300));
    }

    [Fact]
    public void CatchUp_LogCutBelowTree_RebuildsToTheShorterLog()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 600);
        using var tree = AuditTree.Open(dir.Path);
        File.WriteAllLines(dir.File("2026-12-01.jsonl"), File.ReadAllLines(dir.File("2026-12-01.jsonl"))[..100]);
        var result = tree.CatchUp();
        Assert.True(result.Rebuilt);
        Assert.Equal(100, tree.Size);
        using var reopened = AuditTree.Open(dir.Path);
        Assert.Equal(100, reopened.Size);
    }

    [Fact]
    public async Task CatchUp_ConcurrentTreesAndWriter_AgreeAndStayConsistent()
    {
        using var dir = new TempDirectory();
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 10);
        using var a = AuditTree.Open(dir.Path);
        using var b = AuditTree.Open(dir.Path);
        var writing = true;
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < 40; i++)
            {
                TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 10 + i * 500, 500);
            }
            Volatile.Write(ref writing, false);
        });
        var catchers = new[] { a, b, a, b }.Select(t => Task.Run(() =>
        {
            while (Volatile.Read(ref writing))
            {
                Assert.False(t.CatchUp().Rebuilt);
            }
        })).ToArray();
        await Task.WhenAll([writer, .. catchers]).WaitAsync(TimeSpan.FromSeconds(60));
        a.CatchUp();
        b.CatchUp();
        Assert.Equal(20_010, a.Size);
        Assert.Equal(20_010, b.Size);
        Assert.Equal(a.RootAt(20_010), b.RootAt(20_010));
        Assert.Equal(MerkleTree.Root(TreeTestLog.LeafHashes(dir.Path)), a.RootAt(20_010));
        Assert.True(a.Check().Ok);
        using var c = AuditTree.Open(dir.Path);
        Assert.False(c.OpenCatchUp.Rebuilt);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Open_EmptyOrMissingLog_IsEmptyTree()
    {
        using var dir = new TempDirectory();
        using var tree = AuditTree.Open(dir.Path);
        Assert.Equal(0, tree.Size);
        Assert.Equal(MerkleTree.EmptyRoot(), tree.RootAt(0));
        Assert.True(tree.Check().Ok);
        TreeTestLog.Append(dir.Path, "2026-12-01.jsonl", 0, 3);
        Assert.Equal(3, tree.CatchUp().RecordsAdded);
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
