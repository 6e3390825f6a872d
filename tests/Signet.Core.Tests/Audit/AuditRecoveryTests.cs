using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Signet.Audit;

namespace Signet.Core.Tests.Audit;

/// <summary>What opening the log may remove (only what a crash leaves), what it refuses, and <c>RepairAsync</c>.</summary>
public sealed class AuditRecoveryTests
{
    private static readonly DateTimeOffset Day1 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("unparseable")]
    [InlineData("edited")]
    [InlineData("not-a-record")]
    public async Task Open_CompleteLastLineThatCannotBeContinuedFrom_RefusesAndVerifyFailsBeforeAndAfter(string damage)
    {
        using var dir = new TempDirectory();
        var (day, _) = await WriteThree(dir.Path);
        Damage(day, damage);
        var damaged = File.ReadAllBytes(day);

        var before = AuditVerifier.Verify(dir.Path);
        Assert.False(before.IsIntact);
        Assert.Equal(3, before.Break!.Line);
        Assert.Equal(day, before.Break.File);
        Assert.Contains("signet log repair", before.Break.Message, StringComparison.Ordinal);

        var refused = Assert.Throws<AuditLogCorruptException>(() => AuditLog.Open(dir.Path, Options()));
        Assert.Equal(day, refused.Corruption.File);
        Assert.Equal(3, refused.Corruption.Line);
        Assert.Contains("signet log repair", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"{day} line 3", refused.Message, StringComparison.Ordinal);
        Assert.Contains(damage == "edited" ? "is not the hash of its content" : "not a record", refused.Message, StringComparison.Ordinal);

        // Nothing was moved or cut, and the verdict is the same as before the open.
        Assert.Equal(damaged, File.ReadAllBytes(day));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.torn"));
        var after = AuditVerifier.Verify(dir.Path);
        Assert.False(after.IsIntact);
        Assert.Equal(before.Break, after.Break);
        Assert.Empty(after.TornTails);

        // The lock was released: another writer gets the same refusal, not a hang.
        Assert.Throws<AuditLogCorruptException>(() => AuditLog.Open(dir.Path, Options()));
    }

    [Fact]
    public async Task AppendAsync_CompleteCorruptLineAppendedBehindTheWriter_FailsClosedAndRemovesNothing()
    {
        using var dir = new TempDirectory();
        await using var log = AuditLog.Open(dir.Path, Options());
        var first = await log.AppendAsync(TestReceipts.V1(1));
        File.AppendAllText(first.File, "{\"receipt\":{},\"prev_hash\":\"forged\"}\n");
        var damaged = File.ReadAllBytes(first.File);

        var failure = await Assert.ThrowsAsync<AuditLogFailedException>(async () => await log.AppendAsync(TestReceipts.V1(2)));
        Assert.Contains($"{first.File} line 2", failure.Message, StringComparison.Ordinal);
        Assert.Contains("signet log repair", failure.Message, StringComparison.Ordinal);
        Assert.Equal(damaged, File.ReadAllBytes(first.File));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.torn"));
    }

    [Fact]
    public async Task Open_CorruptLineFollowedByATornTail_MovesTheTornTailOnlyAndRefuses()
    {
        using var dir = new TempDirectory();
        var (day, _) = await WriteThree(dir.Path);
        Damage(day, "unparseable");
        var damaged = File.ReadAllBytes(day);
        File.AppendAllText(day, "{\"receipt\":{\"v\"");

        Assert.Throws<AuditLogCorruptException>(() => AuditLog.Open(dir.Path, Options()));
        Assert.Equal(damaged, File.ReadAllBytes(day));
        Assert.Single(Directory.GetFiles(dir.Path, "*.torn"));
    }

    [Fact]
    public async Task Open_TornTail_MovedAsideIntoAFileReadableByOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var dir = new TempDirectory();
        var (day, _) = await WriteThree(dir.Path);
        File.AppendAllText(day, "{\"receipt\":{\"v\":1,\"id\":\"rec_tor");

        await using (var log = AuditLog.Open(dir.Path, Options()))
        {
            var torn = Assert.Single(log.RecoveredTornTails);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(torn.SavedAs));
        }
    }

    [Fact]
    public async Task RepairAsync_CorruptLastLine_MovesItAsideAndRecordsTheRepairInTheChain()
    {
        using var dir = new TempDirectory();
        var (day, hashes) = await WriteThree(dir.Path);
        var whole = File.ReadAllBytes(day);
        var lastStart = Array.LastIndexOf(whole, (byte)'\n', whole.Length - 2) + 1;
        Damage(day, "unparseable");
        var corrupt = File.ReadAllBytes(day)[lastStart..];

        AuditRepairedLine? seen = null;
        var result = await AuditLog.RepairAsync(dir.Path, line =>
        {
            seen = line;
            return RepairReceipt(line);
        }, Options());

        var (repaired, record) = Assert.Single(result.Repaired);
        Assert.Same(seen, repaired);
        Assert.Equal(day, repaired.File);
        Assert.Equal(3, repaired.Line);
        Assert.Equal(lastStart, repaired.Offset);
        Assert.Equal(corrupt.Length, repaired.Length);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(corrupt)), repaired.Sha256);
        Assert.Equal($"{day}.{lastStart}.corrupt", repaired.SavedAs);
        Assert.Equal(corrupt, File.ReadAllBytes(repaired.SavedAs));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(repaired.SavedAs));
        }

        // The repair record continues the chain from the last good record, in the line the corrupt one had.
        Assert.Equal(hashes[1], record.PrevHash);
        Assert.Equal(3, record.Line);
        var verified = AuditAssert.Intact(dir.Path, 3);
        Assert.Equal(record.RecordHash, verified.TipHash);
        var file = Assert.Single(verified.RepairFiles);
        Assert.Equal(repaired.SavedAs, file.Path);
        var logged = AuditQuery.Read(dir.Path, new AuditQueryFilter()).Last();
        Assert.Equal("signet.log.repair", logged.Tool);
        Assert.Equal(repaired.Sha256, (string?)logged.Receipt["action"]!["params"]!["sha256"]);

        // Writers append again.
        await using var log = AuditLog.Open(dir.Path, Options());
        Assert.Equal(record.RecordHash, (await log.AppendAsync(TestReceipts.V1(4))).PrevHash);
    }

    [Fact]
    public async Task RepairAsync_TwoCorruptLastLines_MovesBothAndRecordsEach()
    {
        using var dir = new TempDirectory();
        var (day, hashes) = await WriteThree(dir.Path);
        File.AppendAllText(day, "not json\n");
        Damage(day, "edited-line-3-of-4");

        var result = await AuditLog.RepairAsync(dir.Path, RepairReceipt, Options());

        Assert.Equal([4L, 3L], result.Repaired.Select(r => r.Line.Line));
        Assert.Equal(hashes[1], result.Repaired[0].Record.PrevHash);
        Assert.Equal(result.Repaired[0].Record.RecordHash, result.Repaired[1].Record.PrevHash);
        var verified = AuditAssert.Intact(dir.Path, 4);
        Assert.Equal(2, verified.RepairFiles.Count);
    }

    [Fact]
    public async Task RepairAsync_NothingToRepair_ChangesNothing()
    {
        using var dir = new TempDirectory();
        var (day, hashes) = await WriteThree(dir.Path);
        var bytes = File.ReadAllBytes(day);
        var called = false;

        var result = await AuditLog.RepairAsync(dir.Path, line =>
        {
            called = true;
            return RepairReceipt(line);
        }, Options());

        Assert.True(result.NothingToRepair);
        Assert.False(called);
        Assert.Equal(bytes, File.ReadAllBytes(day));
        Assert.Equal(hashes[2], AuditAssert.Intact(dir.Path, 3).TipHash);
    }

    [Fact]
    public async Task Verify_JsonlFileThatIsNotADayFile_ListedAndNotWalked()
    {
        using var dir = new TempDirectory();
        var (_, hashes) = await WriteThree(dir.Path);
        var stray = dir.File("notes.jsonl");
        File.WriteAllText(stray, "{\"not\":\"a record\"}\n");
        var copy = dir.File("2026-11-26.jsonl.bak.jsonl");
        File.Copy(dir.File("2026-11-26.jsonl"), copy);

        var result = AuditAssert.Intact(dir.Path, 3);
        Assert.Equal(hashes[2], result.TipHash);
        Assert.Equal([copy, stray], result.OtherFiles);
        Assert.Equal([dir.File("2026-11-26.jsonl")], result.Files);
        Assert.Equal(3, AuditQuery.Read(dir.Path, new AuditQueryFilter()).Count());
    }

    private static AuditLogOptions Options() => new() { TimeProvider = new SettableTime(Day1) };

    private static async Task<(string Day, string[] Hashes)> WriteThree(string directory)
    {
        var hashes = new string[3];
        await using (var log = AuditLog.Open(directory, Options()))
        {
            for (var i = 0; i < 3; i++)
            {
                hashes[i] = (await log.AppendAsync(TestReceipts.V1(i + 1))).RecordHash;
            }
        }
        return (Path.Combine(directory, "2026-11-26.jsonl"), hashes);
    }

    /// <summary>One-byte (or one-field) changes to a complete, newline-terminated last record.</summary>
    private static void Damage(string day, string damage)
    {
        var bytes = File.ReadAllBytes(day);
        var lastStart = Array.LastIndexOf(bytes, (byte)'\n', bytes.Length - 2) + 1;
        switch (damage)
        {
            case "unparseable":
                bytes[^2] = (byte)'x'; // the record's closing brace
                break;
            case "edited":
            case "edited-line-3-of-4":
                {
                    var text = System.Text.Encoding.UTF8.GetString(bytes);
                    var at = text.LastIndexOf("query 3", StringComparison.Ordinal);
                    bytes[System.Text.Encoding.UTF8.GetByteCount(text[..at]) + 6] = (byte)'9';
                    break;
                }
            case "not-a-record":
                bytes = [.. bytes[..lastStart], .. "{\"receipt\":{\"v\":1},\"prev_hash\":\"x\"}\n"u8.ToArray()];
                break;
        }
        File.WriteAllBytes(day, bytes);
    }

    private static JsonObject RepairReceipt(AuditRepairedLine line) => new()
    {
        ["v"] = 1,
        ["action"] = new JsonObject
        {
            ["tool"] = "signet.log.repair",
            ["params"] = new JsonObject
            {
                ["file"] = Path.GetFileName(line.File),
                ["line"] = line.Line,
                ["length"] = line.Length,
                ["sha256"] = line.Sha256,
                ["reason"] = line.Reason,
            },
            ["params_hash"] = "sha256:" + new string('0', 64),
            ["target"] = "signet://audit-log",
            ["transport"] = "local",
        },
        ["ts"] = "2026-11-26T12:00:00.000Z",
        ["sig"] = "ed25519:none",
    };
}
