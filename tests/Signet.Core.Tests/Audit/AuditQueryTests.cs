using Signet.Audit;

namespace Signet.Core.Tests.Audit;

public sealed class AuditQueryTests
{
    [Fact]
    public void Read_ReferenceLog_FiltersByToolSignerAndTime()
    {
        var dir = SharedVectors.Path("vectors", "audit", "audit");

        Assert.Equal(5, AuditQuery.Read(dir).Count());
        var echo = Assert.Single(AuditQuery.Read(dir, new AuditQueryFilter { Tool = "echo" }));
        Assert.Equal(3, echo.Version);
        Assert.Equal("2026-11-26T12:47:26.432Z", echo.Timestamp);
        Assert.Single(AuditQuery.Read(dir, new AuditQueryFilter { Signer = "peer-server" }));
        Assert.Equal(5, AuditQuery.Read(dir, new AuditQueryFilter { Signer = "ed25519:re0crWU/9YjQYx5F7TYI2YQ+hehKw6zPEpIV2OdVWoc=" }).Count());

        var april21 = AuditQuery.Read(dir, new AuditQueryFilter
        {
            Since = new DateTimeOffset(2026, 4, 21, 0, 0, 0, TimeSpan.Zero),
            Until = new DateTimeOffset(2026, 4, 22, 0, 0, 0, TimeSpan.Zero),
        }).ToList();
        Assert.Equal(["c"], april21.Select(e => e.Tool));
    }

    [Fact]
    public async Task Read_GarbageLine_SkippedAndReported()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            await log.AppendAsync(TestReceipts.V1(1, tool: "a"));
            await log.AppendAsync(TestReceipts.V1(2, tool: "b"));
        }
        var file = Directory.GetFiles(dir.Path, "*.jsonl").Single();
        var lines = File.ReadAllLines(file);
        File.WriteAllLines(file, [lines[0], "garbage", lines[1]]);

        var skipped = new List<AuditSkippedLine>();
        var entries = AuditQuery.Read(dir.Path, null, skipped.Add).ToList();
        Assert.Equal(["a", "b"], entries.Select(e => e.Tool));
        Assert.Equal(3, entries[1].Line);
        Assert.Equal(2, Assert.Single(skipped).Line);
    }
}
