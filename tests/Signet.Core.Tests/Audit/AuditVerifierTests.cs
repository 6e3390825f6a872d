using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Canonicalization;

namespace Signet.Core.Tests.Audit;

public sealed class AuditVerifierTests
{
    private const string Day1 = "2026-11-25.jsonl";
    private const string Day2 = "2026-11-26.jsonl";

    [Fact]
    public void Verify_ReferenceWrittenLog_MatchesExpectedJson()
    {
        var expected = SharedVectors.Load("vectors", "audit", "expected.json")["result"]!["chain"]!;
        var result = AuditVerifier.Verify(SharedVectors.Path("vectors", "audit", "audit"));

        Assert.Equal((bool)expected["valid"]!, result.IsIntact);
        Assert.Equal((long)expected["total_records"]!, result.RecordCount);
        Assert.Null(result.Break);
        Assert.Equal("sha256:69c177c0a30db7acf3ff61926e2fa64f49afe327597bc6410d53c1c63c8f7335", result.TipHash);
        Assert.Equal(3, result.Files.Count);
    }

    [Fact]
    public void Verify_EmptyDirectory_IntactWithGenesisTip()
    {
        using var dir = new TempDirectory();
        var result = AuditVerifier.Verify(dir.Path);
        Assert.True(result.IsIntact);
        Assert.Equal(0, result.RecordCount);
        Assert.Equal(SignetHash.Genesis, result.TipHash);
    }

    [Fact]
    public void Verify_MissingDirectory_ThrowsNamingIt()
    {
        var e = Assert.Throws<SignetException>(() => AuditVerifier.Verify("/nonexistent/signet/audit"));
        Assert.Contains("/nonexistent/signet/audit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_EditedReceipt_ReportsEditedAtThatLine()
    {
        using var dir = new TempDirectory();
        var results = await Write(dir, 3, 3);
        Rewrite(dir.File(Day2), 2, line => line.Replace("query 4", "query X", StringComparison.Ordinal));

        var b = Broken(dir);
        Assert.Equal(AuditBreakKind.Edited, b.Kind);
        Assert.Equal(dir.File(Day2), b.File);
        Assert.Equal(2, b.Line);
        Assert.Equal(results[4].RecordHash, b.ActualHash);
        Assert.NotEqual(b.ExpectedHash, b.ActualHash);
    }

    [Fact]
    public async Task Verify_EditedPrevHash_ReportsEdited()
    {
        using var dir = new TempDirectory();
        var results = await Write(dir, 3, 0);
        Rewrite(dir.File(Day1), 3, line => line.Replace(results[1].RecordHash, results[0].RecordHash, StringComparison.Ordinal));

        var b = Broken(dir);
        Assert.Equal(AuditBreakKind.Edited, b.Kind);
        Assert.Equal(3, b.Line);
    }

    [Fact]
    public async Task Verify_DeletedMiddleRecord_ReportsDeletedAtTheNextLine()
    {
        using var dir = new TempDirectory();
        var results = await Write(dir, 4, 0);
        Rewrite(dir.File(Day1), 2, _ => null);

        var b = Broken(dir);
        Assert.Equal(AuditBreakKind.Deleted, b.Kind);
        Assert.Equal(dir.File(Day1), b.File);
        Assert.Equal(2, b.Line);
        Assert.Equal(results[0].RecordHash, b.ExpectedHash);
        Assert.Equal(results[1].RecordHash, b.ActualHash);
    }

    [Fact]
    public async Task Verify_DeletedFirstDayFile_ReportsDeletedAtTheStart()
    {
        using var dir = new TempDirectory();
        var results = await Write(dir, 2, 2);
        File.Delete(dir.File(Day1));

        var b = Broken(dir);
        Assert.Equal(AuditBreakKind.Deleted, b.Kind);
        Assert.Equal(dir.File(Day2), b.File);
        Assert.Equal(1, b.Line);
        Assert.Equal(SignetHash.Genesis, b.ExpectedHash);
        Assert.Equal(results[1].RecordHash, b.ActualHash);
    }

    [Fact]
    public async Task Verify_SwappedRecords_ReportsReordered()
    {
        using var dir = new TempDirectory();
        await Write(dir, 4, 0);
        var lines = File.ReadAllLines(dir.File(Day1));
        (lines[1], lines[2]) = (lines[2], lines[1]);
        File.WriteAllLines(dir.File(Day1), lines);

        var b = Broken(dir);
        Assert.Equal(AuditBreakKind.Reordered, b.Kind);
        Assert.Equal(2, b.Line);
    }

    [Fact]
    public async Task Verify_GarbageLine_ReportsUnparseable()
    {
        using var dir = new TempDirectory();
        await Write(dir, 3, 0);
        Rewrite(dir.File(Day1), 2, _ => "{\"receipt\": not json");

        var b = Broken(dir);
        Assert.Equal(AuditBreakKind.Unparseable, b.Kind);
        Assert.Equal(2, b.Line);
        Assert.Contains("invalid JSON at byte offset 13 of the line ($.receipt)", b.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_DuplicateKeyInRecord_ReportsDuplicateKey()
    {
        using var dir = new TempDirectory();
        await Write(dir, 2, 0);
        Rewrite(dir.File(Day1), 1, line => line.Replace("{\"v\":1,", "{\"v\":1,\"v\":2,", StringComparison.Ordinal));

        var b = Broken(dir);
        Assert.Equal(AuditBreakKind.DuplicateKey, b.Kind);
        Assert.Equal(1, b.Line);
    }

    [Fact]
    public async Task Verify_TruncatedLastLine_ReportsTornTail()
    {
        using var dir = new TempDirectory();
        await Write(dir, 1, 3);
        var path = dir.File(Day2);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^40]);

        var b = Broken(dir);
        Assert.Equal(AuditBreakKind.TornTail, b.Kind);
        Assert.Equal(path, b.File);
        Assert.Equal(3, b.Line);
    }

    [Fact]
    public async Task Verify_TailRecordsDeleted_DetectedOnlyAgainstAnExpectedTip()
    {
        using var dir = new TempDirectory();
        var results = await Write(dir, 2, 2);
        File.Delete(dir.File(Day2));

        Assert.True(AuditVerifier.Verify(dir.Path).IsIntact); // as in the reference: the chain alone cannot tell
        var result = AuditVerifier.Verify(dir.Path, new AuditVerifyOptions { ExpectedTip = results[^1].RecordHash });
        Assert.Equal(AuditBreakKind.Truncated, result.Break!.Kind);
        Assert.Equal(results[^1].RecordHash, result.Break.ExpectedHash);
        Assert.Equal(results[1].RecordHash, result.Break.ActualHash);

        Assert.True(AuditVerifier.Verify(dir.Path, new AuditVerifyOptions { ExpectedTip = results[0].RecordHash }).IsIntact);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 1)]
    [InlineData(128, 2)]
    [InlineData(4096, 4)]
    public async Task Verify_BlockSizesAndParallelism_SameVerdict(int blockSize, int parallelism)
    {
        using var dir = new TempDirectory();
        await Write(dir, 300, 0);
        Rewrite(dir.File(Day1), 250, line => line.Replace("query 249", "query Y", StringComparison.Ordinal));
        var b = AuditVerifier.Verify(dir.Path, new AuditVerifyOptions { BlockSize = blockSize, MaxDegreeOfParallelism = parallelism }).Break!;
        Assert.Equal(AuditBreakKind.Edited, b.Kind);
        Assert.Equal(250, b.Line);
    }

    private static async Task<List<AuditAppendResult>> Write(TempDirectory dir, int day1, int day2)
    {
        var time = new SettableTime(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var results = new List<AuditAppendResult>();
        await using var log = AuditLog.Open(dir.Path, new AuditLogOptions { TimeProvider = time });
        for (var i = 0; i < day1 + day2; i++)
        {
            if (i == day1)
            {
                time.Now = time.Now.AddDays(1);
            }
            results.Add(await log.AppendAsync(TestReceipts.V1(i)));
        }
        return results;
    }

    private static void Rewrite(string file, int lineNumber, Func<string, string?> change)
    {
        var lines = File.ReadAllLines(file).ToList();
        var changed = change(lines[lineNumber - 1]);
        Assert.NotEqual(lines[lineNumber - 1], changed);
        if (changed is null)
        {
            lines.RemoveAt(lineNumber - 1);
        }
        else
        {
            lines[lineNumber - 1] = changed;
        }
        File.WriteAllLines(file, lines);
    }

    private static AuditBreak Broken(TempDirectory dir)
    {
        var result = AuditVerifier.Verify(dir.Path);
        Assert.False(result.IsIntact);
        return result.Break!;
    }
}

public sealed class AuditSignatureTests
{
    [Fact]
    public void Verify_ReferenceLogWithSignatures_AllFiveValid()
    {
        var result = AuditVerifier.Verify(SharedVectors.Path("vectors", "audit", "audit"), new AuditVerifyOptions { VerifySignatures = true });
        Assert.True(result.IsValid, string.Join("; ", result.SignatureFailures));
        Assert.Equal(5, result.SignaturesChecked);
    }

    [Fact]
    public async Task Verify_ForgedSignatureWithRecomputedChain_ReportsSignatureFailureAtItsLine()
    {
        using var dir = new TempDirectory();
        var receipts = TestReceipts.ReferenceReceipts();
        var forged = (JsonObject)receipts[2].DeepClone();
        forged["action"]!["params_hash"] = "sha256:" + new string('1', 64);
        receipts[2] = forged;
        await using (var log = AuditLog.Open(dir.Path))
        {
            foreach (var r in receipts)
            {
                await log.AppendAsync(r);
            }
        }
        var result = AuditVerifier.Verify(dir.Path, new AuditVerifyOptions { VerifySignatures = true });
        Assert.True(result.IsIntact);
        Assert.False(result.IsValid);
        var failure = Assert.Single(result.SignatureFailures);
        Assert.Equal(3, failure.Line);
        Assert.Equal((string?)forged["id"], failure.ReceiptId);
    }

    [Fact]
    public async Task Verify_SignaturesOnSeveralThreads_SameFailuresInChainOrder()
    {
        using var dir = new TempDirectory();
        var receipts = TestReceipts.ReferenceReceipts();
        var forgedLines = new[] { 7, 30, 31, 58 };
        await using (var log = AuditLog.Open(dir.Path))
        {
            // Enough records for several parallel blocks, with forgeries spread across them.
            for (var i = 1; i <= 60; i++)
            {
                var r = (JsonObject)receipts[i % receipts.Count].DeepClone();
                if (forgedLines.Contains(i))
                {
                    r["sig"] = (string)receipts[(i + 1) % receipts.Count]["sig"]!;
                }
                await log.AppendAsync(r);
            }
        }
        var one = AuditVerifier.Verify(dir.Path, new AuditVerifyOptions { VerifySignatures = true, MaxDegreeOfParallelism = 1 });
        var two = AuditVerifier.Verify(dir.Path, new AuditVerifyOptions { VerifySignatures = true, MaxDegreeOfParallelism = 2, BlockSize = 16 });

        Assert.True(two.IsIntact);
        Assert.Equal(60, two.SignaturesChecked);
        Assert.Equal(forgedLines.Select(l => (long)l), two.SignatureFailures.Select(f => f.Line));
        Assert.Equal(one.SignatureFailures, two.SignatureFailures);
    }

    [Fact]
    public void Verify_UntrustedKeys_EveryRecordFails()
    {
        using var other = Signet.Keys.SigningKey.Generate();
        var result = AuditVerifier.Verify(SharedVectors.Path("vectors", "audit", "audit"),
            new AuditVerifyOptions { VerifySignatures = true, TrustedKeys = [other.PublicKey] });
        Assert.Equal(5, result.SignatureFailures.Count);
    }
}
