using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Canonicalization;

namespace Signet.Core.Tests.Audit;

public sealed class AuditLogTests
{
    private static readonly DateTimeOffset Day1 = new(2026, 11, 26, 23, 59, 59, TimeSpan.Zero);

    [Fact]
    public async Task AppendAsync_FirstRecords_ChainFromGenesisWithReferenceHashes()
    {
        using var dir = new TempDirectory();
        var time = new SettableTime(Day1);
        AuditAppendResult first, second;
        await using (var log = AuditLog.Open(dir.Path, new AuditLogOptions { TimeProvider = time }))
        {
            first = await log.AppendAsync(TestReceipts.V1(1));
            second = await log.AppendAsync(TestReceipts.V1(2));
        }

        Assert.Equal(SignetHash.Genesis, first.PrevHash);
        Assert.Equal(TestReceipts.ReferenceHash(SignetHash.Genesis, TestReceipts.V1(1)), first.RecordHash);
        Assert.Equal(first.RecordHash, second.PrevHash);
        Assert.Equal(TestReceipts.ReferenceHash(first.RecordHash, TestReceipts.V1(2)), second.RecordHash);
        Assert.Equal(dir.File("2026-11-26.jsonl"), first.File);
        Assert.Equal(1, first.Line);
        Assert.Equal(2, second.Line);

        var lines = File.ReadAllLines(first.File);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("{\"receipt\":{\"v\":1,\"id\":", lines[0], StringComparison.Ordinal);
        Assert.EndsWith($",\"prev_hash\":\"{SignetHash.Genesis}\",\"record_hash\":\"{first.RecordHash}\"}}", lines[0], StringComparison.Ordinal);
        Assert.Contains("query 1 ü", lines[0], StringComparison.Ordinal);
        AuditAssert.Intact(dir.Path, 2);
    }

    [Fact]
    public async Task Open_NewLog_DirectoryAndDayFileReadableByOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var dir = new TempDirectory();
        var audit = Path.Combine(dir.Path, "audit");
        await using (var log = AuditLog.Open(audit, new AuditLogOptions { TimeProvider = new SettableTime(Day1) }))
        {
            await log.AppendAsync(TestReceipts.V1(1));
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(audit));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(audit, "2026-11-26.jsonl")));
    }

    [Fact]
    public async Task AppendAsync_BackDatedReceipt_GoesToTheAppendDayFile()
    {
        using var dir = new TempDirectory();
        var time = new SettableTime(Day1);
        await using (var log = AuditLog.Open(dir.Path, new AuditLogOptions { TimeProvider = time }))
        {
            await log.AppendAsync(TestReceipts.V1(1, ts: "2026-11-26T10:00:00.000Z"));
            time.Now = Day1.AddSeconds(2); // 2026-11-27
            var late = await log.AppendAsync(TestReceipts.V1(2, ts: "2020-01-01T00:00:00.000Z"));
            Assert.Equal(dir.File("2026-11-27.jsonl"), late.File);
            Assert.Equal(1, late.Line);
        }

        Assert.False(File.Exists(dir.File("2020-01-01.jsonl")));
        var result = AuditAssert.Intact(dir.Path, 2);
        Assert.Equal(2, result.Files.Count);
    }

    [Fact]
    public async Task AppendAsync_ClockSteppedBack_KeepsWritingTheNewestFile()
    {
        using var dir = new TempDirectory();
        var time = new SettableTime(Day1);
        await using (var log = AuditLog.Open(dir.Path, new AuditLogOptions { TimeProvider = time }))
        {
            await log.AppendAsync(TestReceipts.V1(1));
            time.Now = Day1.AddDays(-3);
            var r = await log.AppendAsync(TestReceipts.V1(2));
            Assert.Equal(dir.File("2026-11-26.jsonl"), r.File);
        }
        AuditAssert.Intact(dir.Path, 2);
    }

    [Fact]
    public async Task AppendAsync_EveryReceiptVersion_ChainVerifies()
    {
        using var dir = new TempDirectory();
        var receipts = TestReceipts.ReferenceReceipts();
        Assert.Contains(receipts, r => (int)r["v"]! == 1);
        Assert.Contains(receipts, r => (int)r["v"]! == 2);
        Assert.Contains(receipts, r => (int)r["v"]! == 3);
        await using (var log = AuditLog.Open(dir.Path))
        {
            foreach (var receipt in receipts)
            {
                await log.AppendAsync(receipt);
            }
        }
        AuditAssert.Intact(dir.Path, receipts.Count);
    }

    [Fact]
    public async Task Open_ReferenceWrittenLog_ContinuesItsChain()
    {
        using var dir = new TempDirectory();
        TestReceipts.CopyReferenceLog(dir.Path);
        var time = new SettableTime(new DateTimeOffset(2026, 11, 26, 13, 0, 0, TimeSpan.Zero));
        await using (var log = AuditLog.Open(dir.Path, new AuditLogOptions { TimeProvider = time }))
        {
            Assert.Equal("sha256:69c177c0a30db7acf3ff61926e2fa64f49afe327597bc6410d53c1c63c8f7335", log.TipHash);
            var r = await log.AppendAsync(TestReceipts.V1(9));
            Assert.Equal("sha256:69c177c0a30db7acf3ff61926e2fa64f49afe327597bc6410d53c1c63c8f7335", r.PrevHash);
            Assert.Equal(3, r.Line);
        }
        AuditAssert.Intact(dir.Path, 6);
    }

    [Fact]
    public async Task Open_ExistingLog_ContinuesFromTheLastRecord()
    {
        using var dir = new TempDirectory();
        string tip;
        await using (var log = AuditLog.Open(dir.Path))
        {
            for (var i = 0; i < 5; i++)
            {
                tip = (await log.AppendAsync(TestReceipts.V1(i))).RecordHash;
            }
            tip = log.TipHash;
        }
        await using (var log = AuditLog.Open(dir.Path))
        {
            Assert.Equal(tip, log.TipHash);
            var r = await log.AppendAsync(TestReceipts.V1(5));
            Assert.Equal(tip, r.PrevHash);
            Assert.Equal(6, r.Line);
        }
        AuditAssert.Intact(dir.Path, 6);
    }

    [Fact]
    public async Task Open_AfterCleanClose_ReadsOnlyWhatWasAppendedSinceTheCheckpoint()
    {
        using var dir = new TempDirectory();
        var time = new SettableTime(Day1);
        var day = dir.File("2026-11-26.jsonl");
        await AppendAndCloseAsync(dir.Path, time, 3);
        var afterThree = new FileInfo(day).Length;
        var checkpoint = File.ReadAllBytes(dir.File(AuditRecovery.CheckpointFileName));
        var files = new ObservedFiles();
        await using (var log = AuditLog.OpenWithFiles(dir.Path, new AuditLogOptions { TimeProvider = time }, null, files))
        {
            Assert.Equal((day, afterThree), files.Scans.First());
            await log.AppendAsync(TestReceipts.V1(3));
            await log.AppendAsync(TestReceipts.V1(4));
        }

        // A checkpoint older than the file (another writer appended since, and was killed before it could write
        // one): the lines after it are read and counted on.
        File.WriteAllBytes(dir.File(AuditRecovery.CheckpointFileName), checkpoint);
        files = new ObservedFiles();
        await using (var log = AuditLog.OpenWithFiles(dir.Path, new AuditLogOptions { TimeProvider = time }, null, files))
        {
            Assert.Equal((day, afterThree), files.Scans.First());
            var r = await log.AppendAsync(TestReceipts.V1(5));
            Assert.Equal(6, r.Line);
        }
        AuditAssert.Intact(dir.Path, 6);
        Assert.DoesNotContain(AuditRecordFormat.ChainFiles(dir.Path), f => f.Contains("checkpoint", StringComparison.Ordinal));
    }

    /// <summary>Opens the log, appends <paramref name="count"/> receipts and closes it cleanly (leaving a checkpoint).</summary>
    private static async Task AppendAndCloseAsync(string directory, TimeProvider time, int count)
    {
        await using var log = AuditLog.Open(directory, new AuditLogOptions { TimeProvider = time });
        for (var i = 0; i < count; i++)
        {
            await log.AppendAsync(TestReceipts.V1(i));
        }
    }

    [Theory]
    [InlineData("hash")]
    [InlineData("end")]
    [InlineData("lines")]
    [InlineData("day")]
    [InlineData("garbage")]
    [InlineData("shrunk")]
    [InlineData("replaced")]
    public async Task Open_CheckpointThatDoesNotDescribeTheFile_ReadsTheWholeFile(string damage)
    {
        using var dir = new TempDirectory();
        var time = new SettableTime(Day1);
        var day = dir.File("2026-11-26.jsonl");
        await AppendAndCloseAsync(dir.Path, time, 4);
        var path = dir.File(AuditRecovery.CheckpointFileName);
        var checkpoint = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var lines = File.ReadAllLines(day);
        var expectedLine = 5;
        switch (damage)
        {
            case "hash":
                checkpoint["record_hash"] = "sha256:" + new string('0', 64);
                break;
            case "end":
                checkpoint["end"] = (long)checkpoint["end"]! - 1;
                break;
            case "lines":
                checkpoint["lines"] = -3;
                break;
            case "day":
                checkpoint["file"] = "2026-11-25.jsonl";
                break;
            case "garbage":
                break;
            case "shrunk":
                File.WriteAllLines(day, lines[..3]);
                expectedLine = 4;
                break;
            case "replaced":
                // Same length, but the record at the checkpoint's end is not the one it names.
                File.WriteAllLines(day, [lines[0], lines[1], lines[3], lines[2]]);
                break;
        }
        File.WriteAllText(path, damage == "garbage" ? "{not json" : checkpoint.ToJsonString());

        var files = new ObservedFiles();
        await using (var log = AuditLog.OpenWithFiles(dir.Path, new AuditLogOptions { TimeProvider = time }, null, files))
        {
            Assert.Equal((day, 0L), files.Scans.First());
            var r = await log.AppendAsync(TestReceipts.V1(9));
            Assert.Equal(expectedLine, r.Line);
        }
    }

    [Theory]
    [InlineData("{\"receipt\":{\"v\":1,\"id\":\"rec_tor", "no newline")]
    [InlineData("\0\0\0\0\0\0", "no newline")]
    public async Task Open_TornLastLine_MovedAsideReportedAndChainContinues(string tail, string reason)
    {
        using var dir = new TempDirectory();
        var time = new SettableTime(Day1);
        string tip;
        await using (var log = AuditLog.Open(dir.Path, new AuditLogOptions { TimeProvider = time }))
        {
            await log.AppendAsync(TestReceipts.V1(1));
            tip = (await log.AppendAsync(TestReceipts.V1(2))).RecordHash;
        }
        var day = dir.File("2026-11-26.jsonl");
        var whole = File.ReadAllBytes(day);
        File.AppendAllText(day, tail);

        var before = AuditVerifier.Verify(dir.Path);
        Assert.False(before.IsIntact);
        Assert.Equal(3, before.Break!.Line);
        Assert.Equal(AuditBreakKind.TornTail, before.Break.Kind);

        var files = new ObservedFiles();
        await using (var log = AuditLog.OpenWithFiles(dir.Path, new AuditLogOptions { TimeProvider = time }, null, files))
        {
            Assert.Equal((day, (long)whole.Length), files.Scans.First()); // the checkpoint of the clean close: only the tail is read
            var torn = Assert.Single(log.RecoveredTornTails);
            Assert.Equal(day, torn.File);
            Assert.Equal(3, torn.Line);
            Assert.Equal(whole.Length, torn.Offset);
            Assert.Contains(reason, torn.Reason, StringComparison.Ordinal);
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(tail), File.ReadAllBytes(torn.SavedAs));
            Assert.Equal(whole, File.ReadAllBytes(day));
            var r = await log.AppendAsync(TestReceipts.V1(3));
            Assert.Equal(tip, r.PrevHash);
            Assert.Equal(3, r.Line);
        }
        var after = AuditAssert.Intact(dir.Path, 3);
        Assert.Single(after.TornTails);
    }

    [Fact]
    public async Task AppendAsync_EightConcurrentWriters_OneChainWithEveryRecord()
    {
        using var dir = new TempDirectory();
        var hashes = new System.Collections.Concurrent.ConcurrentBag<string>();
        await using (var log = AuditLog.Open(dir.Path))
        {
            var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 100; i++)
                {
                    hashes.Add((await log.AppendAsync(TestReceipts.V1(w * 1000 + i))).RecordHash);
                }
            }));
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
        }
        AuditAssert.Intact(dir.Path, 800);
        var stored = AuditQuery.Read(dir.Path).Select(e => e.RecordHash).ToHashSet();
        Assert.Equal(800, hashes.Distinct().Count());
        Assert.Subset(stored, hashes.ToHashSet());
    }

    [Fact]
    public async Task AppendDeferredAsync_DurableLog_WrittenAtOnceAndFsyncedByTheFlushTimer()
    {
        using var dir = new TempDirectory();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Day1);
        await using var log = AuditLog.Open(dir.Path, new AuditLogOptions { TimeProvider = time, FastFlushInterval = TimeSpan.FromMilliseconds(100) });
        var syncsBefore = log.Statistics.Syncs;

        var append = log.AppendDeferredAsync(TestReceipts.V1(1));

        // Written by the caller: complete on return, on disk in the page cache, not yet fsynced.
        Assert.True(append.IsCompletedSuccessfully);
        Assert.Single(TestReceipts.Lines((await append).File));
        Assert.Equal(syncsBefore, log.Statistics.Syncs);

        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(syncsBefore + 1, log.Statistics.Syncs);
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(syncsBefore + 1, log.Statistics.Syncs); // nothing new: no fsync
    }

    [Fact]
    public async Task AppendAsync_AfterDeferredAppend_OneFsyncCoversBoth()
    {
        using var dir = new TempDirectory();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Day1);
        await using (var log = AuditLog.Open(dir.Path, new AuditLogOptions { TimeProvider = time }))
        {
            var syncsBefore = log.Statistics.Syncs;
            var deferred = await log.AppendDeferredAsync(TestReceipts.V1(1));
            var durable = await log.AppendAsync(TestReceipts.V1(2));

            Assert.Equal(syncsBefore + 1, log.Statistics.Syncs);
            Assert.Equal(deferred.RecordHash, durable.PrevHash);
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(syncsBefore + 1, log.Statistics.Syncs); // the timer finds nothing left to fsync
        }
        AuditAssert.Intact(dir.Path, 2);
    }

    [Fact]
    public async Task AppendAsync_FastMode_CompletesOnTheCallersThreadWithoutFsync()
    {
        using var dir = new TempDirectory();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Day1);
        await using (var log = AuditLog.Open(dir.Path, new AuditLogOptions { TimeProvider = time, Durability = AuditDurability.Fast }))
        {
            var syncsBefore = log.Statistics.Syncs;
            for (var i = 0; i < 10; i++)
            {
                Assert.True(log.AppendAsync(TestReceipts.V1(i)).IsCompletedSuccessfully);
            }
            Assert.Equal(syncsBefore, log.Statistics.Syncs);
            time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.Equal(syncsBefore + 1, log.Statistics.Syncs);
        }
        AuditAssert.Intact(dir.Path, 10);
    }

    [Fact]
    public async Task AppendDeferredAsync_MixedWithDurableWritersConcurrently_OneChainWithEveryRecord()
    {
        using var dir = new TempDirectory();
        var hashes = new System.Collections.Concurrent.ConcurrentBag<string>();
        await using (var log = AuditLog.Open(dir.Path))
        {
            var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 100; i++)
                {
                    var receipt = TestReceipts.V1(w * 1000 + i);
                    var result = w % 2 == 0 ? await log.AppendAsync(receipt) : await log.AppendDeferredAsync(receipt);
                    hashes.Add(result.RecordHash);
                }
            }));
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
        }
        AuditAssert.Intact(dir.Path, 800);
        Assert.Equal(hashes.ToHashSet(), AuditQuery.Read(dir.Path).Select(e => e.RecordHash).ToHashSet());
    }

    [Fact]
    public async Task AppendDeferredAsync_AfterDispose_FailsWithObjectDisposed()
    {
        using var dir = new TempDirectory();
        var log = AuditLog.Open(dir.Path);
        await log.AppendDeferredAsync(TestReceipts.V1(1));
        await log.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await log.AppendDeferredAsync(TestReceipts.V1(2)));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await log.AppendAsync(TestReceipts.V1(3)));
        AuditAssert.Intact(dir.Path, 1);
    }

    [Fact]
    public async Task AppendAsync_SixteenConcurrentDurableWriters_ShareFsyncs()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            var syncsBefore = log.Statistics.Syncs;
            var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    await log.AppendAsync(TestReceipts.V1(w * 1000 + i));
                }
            }));
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));

            var (batches, records, syncs) = log.Statistics;
            Assert.Equal(800, records);
            Assert.True(syncs - syncsBefore < records, $"{syncs - syncsBefore} fsyncs for {records} records: no group commit");
            Assert.True(batches < records, $"{batches} writes for {records} records: no batching");
        }
        AuditAssert.Intact(dir.Path, 800);
    }

    [Fact]
    public async Task AppendAsync_SteadyLoad_RoundsMoveToTheRoundThreadWhichEndsOnDispose()
    {
        using var dir = new TempDirectory();
        Thread? roundThread;
        var files = new ObservedFiles();
        await using (var log = AuditLog.OpenWithFiles(dir.Path, null, null, files))
        {
            var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    await log.AppendAsync(TestReceipts.V1(w * 1000 + i));
                }
            }));
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));

            // Rounds that found more appends queued went on on the log's own thread, not on a pool thread.
            roundThread = files.FsyncThreads.FirstOrDefault(t => t.Name == "Signet audit rounds");
            Assert.True(roundThread is not null, "no round handed over to the round thread under a steady load");
            Assert.True(roundThread.IsBackground);
            Assert.False(roundThread.IsThreadPoolThread);
        }
        Assert.True(roundThread.Join(TimeSpan.FromSeconds(10)), "the round thread outlived the log");
        AuditAssert.Intact(dir.Path, 800);
    }

    [Fact]
    public async Task AppendAsync_ResultReadWithoutAwaitFromManyThreads_EachBlocksUntilDurable()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            // Sync-over-async readers sleep until their round completes them; none may miss its wake-up.
            var lines = new System.Collections.Concurrent.ConcurrentBag<long>();
            var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
            {
                for (var i = 0; i < 25; i++)
                {
                    lines.Add(log.AppendAsync(TestReceipts.V1(t * 1000 + i)).Result.Line);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            foreach (var t in threads)
            {
                Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a reader of .Result never woke up");
            }
            Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), lines.Order());
        }
        AuditAssert.Intact(dir.Path, 200);
    }

    [Fact]
    public async Task AppendAsync_StartedTogetherFromOneThread_ShareFsyncs()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            var syncsBefore = log.Statistics.Syncs;
            // A caller that starts several appends before awaiting any must not get one fsync each, one after another.
            var appends = Enumerable.Range(0, 16).Select(i => log.AppendAsync(TestReceipts.V1(i)).AsTask()).ToList();
            await Task.WhenAll(appends).WaitAsync(TimeSpan.FromSeconds(60));

            Assert.True(log.Statistics.Syncs - syncsBefore < 16, $"{log.Statistics.Syncs - syncsBefore} fsyncs for 16 appends started together");
        }
        AuditAssert.Intact(dir.Path, 16);
    }

    [Fact]
    public async Task AppendAsync_CallerAppendingOneAtATime_ContinuesOnTheThreadThatFsynced()
    {
        using var dir = new TempDirectory();
        var files = new ObservedFiles();
        // No flush timer: an fsync it ran between a round's write and the round's own fsync would leave the round nothing to fsync.
        await using (var log = AuditLog.OpenWithFiles(dir.Path, new AuditLogOptions { FastFlushInterval = Timeout.InfiniteTimeSpan }, null, files))
        {
            // Nobody else waits: the round that wrote and fsynced each record runs its caller's continuation (no hop).
            // Each round is held at its fsync until the continuation is registered, so that the append is still
            // pending when awaited (an append that completed first continues on its caller's thread, as any does).
            // On a pool thread, with no synchronization context that would take the continuation elsewhere.
            var hold = new SemaphoreSlim(0);
            files.HoldFsync = hold;
            var hops = await Task.Run(async () =>
            {
                var elsewhere = 0;
                for (var i = 0; i < 20; i++)
                {
                    var awaiter = log.AppendAsync(TestReceipts.V1(i)).ConfigureAwait(false).GetAwaiter();
                    Assert.False(awaiter.IsCompleted);
                    var resumed = new TaskCompletionSource<(bool InRound, AuditAppendResult Result)>(TaskCreationOptions.RunContinuationsAsynchronously);
                    // Inside the round that fsynced, not merely on the same pool thread after it returned.
                    awaiter.UnsafeOnCompleted(() => resumed.SetResult((
                        files.FsyncThreads.Last() == Thread.CurrentThread && Environment.StackTrace.Contains("AuditGroupCommit.RunRounds", StringComparison.Ordinal),
                        awaiter.GetResult())));
                    hold.Release();
                    var (inRound, result) = await resumed.Task.WaitAsync(TimeSpan.FromSeconds(60));
                    Assert.Equal(i + 1, result.Line);
                    if (!inRound)
                    {
                        elsewhere++;
                    }
                }
                return elsewhere;
            });
            files.HoldFsync = null;
            Assert.Equal(0, hops);
        }
        AuditAssert.Intact(dir.Path, 20);
    }

    [Fact]
    public async Task AppendAsync_FsyncFails_AppendFailsAndTheWriterStops()
    {
        // Simulated (ObservedFiles): an fsync error cannot be caused on demand with real files on this machine.
        using var dir = new TempDirectory();
        var files = new ObservedFiles();
        var log = AuditLog.OpenWithFiles(dir.Path, null, null, files);
        var first = await log.AppendAsync(TestReceipts.V1(0));

        files.FailFsync = new IOException("Input/output error");
        var e = await Assert.ThrowsAsync<AuditLogFailedException>(async () => await log.AppendAsync(TestReceipts.V1(1)));
        Assert.Contains("fsync of", e.Message, StringComparison.Ordinal);
        Assert.Contains("Input/output error", e.Message, StringComparison.Ordinal);

        // The disk is back, the writer is not: nothing it appends after an unconfirmed fsync may look durable.
        files.FailFsync = null;
        Assert.Same(e, await Assert.ThrowsAsync<AuditLogFailedException>(async () => await log.AppendDeferredAsync(TestReceipts.V1(2))));
        Assert.Same(e, await Assert.ThrowsAsync<AuditLogFailedException>(async () => await log.DisposeAsync()));
        Assert.Equal(1, first.Line);
        Assert.True(AuditVerifier.Verify(dir.Path).IsIntact); // the record whose fsync failed was written whole: the chain still holds
    }

    [Fact]
    public async Task AppendAsync_ContinuationBlocksOnAnotherAppend_BothComplete()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            // The continuation may run on the thread that ran the round; blocking there must not stall the log.
            var done = Task.Run(async () =>
            {
                await log.AppendAsync(TestReceipts.V1(1));
                var second = log.AppendAsync(TestReceipts.V1(2)).AsTask().GetAwaiter().GetResult();
                var third = log.AppendAsync(TestReceipts.V1(3)).Result; // read without awaiting: blocks until durable
                return (second.Line, third.Line);
            });
            var (second, third) = await done.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(2, second);
            Assert.Equal(3, third);
        }
        AuditAssert.Intact(dir.Path, 3);
    }

    [Fact]
    public async Task AppendAsync_WaitCancelled_ThrowsButTheRecordIsStillWritten()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            using var cts = new CancellationTokenSource();
            var appends = Enumerable.Range(0, 8).Select(i => log.AppendAsync(TestReceipts.V1(i), cts.Token).AsTask()).ToList();
            await cts.CancelAsync();
            foreach (var append in appends)
            {
                // Each wait either finished before the cancellation or reports it; neither loses the record.
                try
                {
                    await append.WaitAsync(TimeSpan.FromSeconds(30));
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        AuditAssert.Intact(dir.Path, 8);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the path lookup of systems without statx
    public async Task AppendAsync_TwoWritersOnOneDirectory_InterleaveIntoOneChain(bool byPath)
    {
        using var dir = new TempDirectory();
        await using var a = AuditLog.OpenWithFiles(dir.Path, null, null, new ObservedFiles { NoStatx = byPath });
        await using var b = AuditLog.OpenWithFiles(dir.Path, null, null, new ObservedFiles { NoStatx = byPath });
        var results = new List<AuditAppendResult>();
        for (var i = 0; i < 20; i++)
        {
            results.Add(await (i % 3 == 0 ? b : a).AppendAsync(TestReceipts.V1(i)));
        }
        for (var i = 1; i < results.Count; i++)
        {
            Assert.Equal(results[i - 1].RecordHash, results[i].PrevHash);
            Assert.Equal(i + 1, results[i].Line);
        }
        AuditAssert.Intact(dir.Path, 20);
    }

    [Fact]
    public async Task AppendAsync_FastMode_WritesAtOnceAndVerifies()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path, new AuditLogOptions { Durability = AuditDurability.Fast }))
        {
            for (var i = 0; i < 50; i++)
            {
                await log.AppendAsync(TestReceipts.V1(i));
            }
            // Written to the OS already: a reader sees every record before close.
            Assert.Equal(50, AuditQuery.Read(dir.Path).Count());
        }
        AuditAssert.Intact(dir.Path, 50);
    }

    [Fact]
    public async Task AppendAsync_ReceiptThatCannotBeCanonicalized_RejectedAndWriterKeepsWorking()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            var bad = TestReceipts.V1(1);
            bad["action"]!["params"] = JsonNode.Parse("{\"n\":9007199254740993}");
            await Assert.ThrowsAsync<CanonicalizationException>(async () => await log.AppendAsync(bad));
            await log.AppendAsync(TestReceipts.V1(2));
        }
        AuditAssert.Intact(dir.Path, 1);
    }

    [Fact]
    public async Task AppendAsync_AfterDispose_Throws()
    {
        using var dir = new TempDirectory();
        var log = AuditLog.Open(dir.Path);
        await log.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await log.AppendAsync(TestReceipts.V1(1)));
    }
}

public sealed class AuditLogTamperWhileOpenTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the path lookup of systems without statx
    public async Task AppendAsync_DayFileDeletedWhileOpen_RecreatedAndVerifyReportsDeletion(bool byPath)
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.OpenWithFiles(dir.Path, null, null, new ObservedFiles { NoStatx = byPath }))
        {
            await log.AppendAsync(TestReceipts.V1(1));
            File.Delete(Directory.GetFiles(dir.Path, "*.jsonl").Single());
            var r = await log.AppendAsync(TestReceipts.V1(2));
            Assert.Equal(1, r.Line);
            Assert.True(File.Exists(r.File));
        }
        var b = AuditVerifier.Verify(dir.Path).Break!;
        Assert.Equal(AuditBreakKind.Deleted, b.Kind);
        Assert.Equal(1, b.Line);
    }

    [Fact]
    public async Task AppendAsync_DayFileReplacedByACopyWhileOpen_NextRecordLandsInTheFileNowThere()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            await log.AppendAsync(TestReceipts.V1(1));
            await log.AppendAsync(TestReceipts.V1(2));
            // A new file with the same content (and length) renamed over the old name.
            var path = ReplaceDayFile(dir.Path, lines => lines);
            var r = await log.AppendAsync(TestReceipts.V1(3));
            Assert.Equal(3, r.Line);
            Assert.Equal(path, r.File);
            // Reported durable, so it must be readable under the file's name now, not only through the old handle.
            Assert.Equal(3, File.ReadAllLines(path).Length);
        }
        AuditAssert.Intact(dir.Path, 3);
    }

    [Fact]
    public async Task AppendAsync_DayFileReplacedByAnEditedCopyWhileOpen_ChainContinuesAndVerifyFindsTheEdit()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            await log.AppendAsync(TestReceipts.V1(1));
            await log.AppendAsync(TestReceipts.V1(2));
            var lines = Array.Empty<string>();
            var path = ReplaceDayFile(dir.Path, original =>
            {
                lines = original;
                lines[0] = lines[0].Replace("\"v\":1", "\"v\":2", StringComparison.Ordinal);
                return lines;
            });
            var r = await log.AppendAsync(TestReceipts.V1(3));
            Assert.Equal(3, r.Line);
            Assert.Equal(AuditRecordFormat.TryParse(System.Text.Encoding.UTF8.GetBytes(lines[1]), out _, out _)!.RecordHash, r.PrevHash);
            Assert.Equal(3, File.ReadAllLines(path).Length);
        }
        var b = AuditVerifier.Verify(dir.Path).Break!;
        Assert.Equal(AuditBreakKind.Edited, b.Kind);
        Assert.Equal(1, b.Line);
    }

    /// <summary>What an editor's save or <c>sed -i</c> does: writes the changed lines to a new file and renames it over the day file.</summary>
    private static string ReplaceDayFile(string directory, Func<string[], string[]> change)
    {
        var path = Directory.GetFiles(directory, "*.jsonl").Single();
        File.WriteAllLines(path + ".tmp", change(File.ReadAllLines(path)));
        File.Move(path + ".tmp", path, overwrite: true);
        return path;
    }
}

public sealed class AuditLogLoggingTests
{
    [Fact]
    public async Task Open_TornTail_ReportedThroughTheLoggerAsWarning()
    {
        using var dir = new TempDirectory();
        await using (var log = AuditLog.Open(dir.Path))
        {
            await log.AppendAsync(TestReceipts.V1(1));
        }
        File.AppendAllText(Directory.GetFiles(dir.Path, "*.jsonl").Single(), "{\"receipt\":");

        var logger = new CapturingLogger();
        await using (var log = AuditLog.Open(dir.Path, null, logger))
        {
            Assert.Single(log.RecoveredTornTails);
        }
        var warning = Assert.Single(logger.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.Contains("Torn audit record", warning.Message, StringComparison.Ordinal);
        Assert.Contains(".torn", warning.Message, StringComparison.Ordinal);
    }

    private sealed class CapturingLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<(Microsoft.Extensions.Logging.LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
