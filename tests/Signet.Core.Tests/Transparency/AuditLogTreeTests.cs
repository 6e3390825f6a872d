using Signet.Audit;
using Signet.Core.Tests.Audit;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

public sealed class AuditLogTreeTests
{
    [Fact]
    public async Task AuditLog_AppendsAndClose_TreeHoldsEveryRecord()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            Assert.NotNull(log.Tree);
            for (var i = 0; i < 300; i++)
            {
                await log.AppendAsync(TestReceipts.V1(i));
            }
            for (var i = 300; i < 600; i++)
            {
                await log.AppendDeferredAsync(TestReceipts.V1(i));
            }
            Assert.Equal(600, log.Tree.CatchUp().Size);
        }

        using var tree = AuditTree.Open(dir.Path);
        Assert.False(tree.OpenCatchUp.Rebuilt, tree.OpenCatchUp.RebuildReason);
        Assert.Equal(600, tree.Size);
        Assert.Equal(MerkleTree.Root(TreeTestLog.LeafHashes(dir.Path)), tree.RootAt(600));
        Assert.True(File.Exists(dir.File("tile/0/001")));
        Assert.True(tree.Check().Ok);
    }

    [Fact]
    public async Task AuditLog_Close_CatchesTheTreeUp()
    {
        using var dir = new TempDirectory();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        await using (var log = AuditLog.Open(dir.Path, new AuditLogOptions { TimeProvider = time }))
        {
            for (var i = 0; i < 257; i++)
            {
                await log.AppendAsync(TestReceipts.V1(i));
            }
            // The fake clock never fires the timer: only close can have caught the tree up.
            Assert.Equal(0, log.Tree!.Size);
        }
        Assert.Equal(8192, new FileInfo(dir.File("tile/0/000")).Length);
        using var tree = AuditTree.Open(dir.Path);
        Assert.Equal(0, tree.OpenCatchUp.TilesWritten);
        Assert.Equal(257, tree.Size);
    }

    [Fact]
    public async Task AuditLog_TreeOff_WritesNoTiles()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path, new AuditLogOptions { Tree = false }))
        {
            Assert.Null(log.Tree);
            for (var i = 0; i < 300; i++)
            {
                await log.AppendAsync(TestReceipts.V1(i));
            }
        }
        Assert.False(Directory.Exists(dir.File("tile")));
        Assert.False(File.Exists(dir.File("tree.index")));
    }

    [Fact]
    public async Task AuditLog_ReferenceLog_GainsTreeOnFirstOpen()
    {
        using var dir = new TempDirectory();
        TestReceipts.CopyReferenceLog(dir.Path);
        var records = TreeTestLog.Lines(dir.Path).Count;
        Assert.True(records > 0);
        await using (var log = AuditLog.Open(dir.Path))
        {
            Assert.Equal(records, log.Tree!.Size);
            Assert.Equal(MerkleTree.Root(TreeTestLog.LeafHashes(dir.Path)), log.Tree.RootAt(records));
            await log.AppendAsync(TestReceipts.V1(1));
        }
        using var tree = AuditTree.Open(dir.Path);
        Assert.Equal(records + 1, tree.Size);
        Assert.True(tree.Check().Ok);
        AuditAssert.Intact(dir.Path, records + 1);
    }
}
