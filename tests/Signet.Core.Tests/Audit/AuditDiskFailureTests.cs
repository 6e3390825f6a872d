using System.Diagnostics;
using Signet.Audit;

namespace Signet.Core.Tests.Audit;

/// <summary>
/// A full disk and a read-only file system, on a real 64 KiB tmpfs mounted for the test (needs root, as in CI). Without
/// root the read-only case falls back to a directory without write permission.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AuditDiskFailureTests
{
    private static bool IsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    [Fact]
    public async Task AppendAsync_DiskFull_FailsNamingTheCauseAndLeavesNoPartialRecord()
    {
        if (!IsRoot)
        {
            return; // a size-limited file system needs a mount; the read-only test below covers the non-root case
        }
        using var dir = new TempDirectory();
        using var mount = TmpfsMount.Create(dir.Path, "size=64k");
        var audit = Path.Combine(dir.Path, "audit");
        var written = new List<string>();
        AuditLogFailedException? failure = null;
        await using (var log = AuditLog.Open(audit))
        {
            for (var i = 0; i < 10_000 && failure is null; i++)
            {
                try
                {
                    written.Add((await log.AppendAsync(TestReceipts.V1(i))).RecordHash);
                }
                catch (AuditLogFailedException e)
                {
                    failure = e;
                }
            }
            Assert.NotNull(failure);
            Assert.Contains("No space left on device", failure.Message, StringComparison.Ordinal);
            Assert.Contains("refuses further appends", failure.Message, StringComparison.Ordinal);
            var again = await Assert.ThrowsAsync<AuditLogFailedException>(async () => await log.AppendAsync(TestReceipts.V1(0)));
            Assert.Same(failure, again);
        }
        Assert.NotEmpty(written);
        var result = AuditVerifier.Verify(audit);
        Assert.True(result.IsIntact, result.Break?.ToString());
        Assert.Equal(written.Count, result.RecordCount);
        Assert.Equal(written[^1], result.TipHash);
    }

    [Fact]
    public async Task Open_ReadOnlyFileSystem_ClearErrorAndLogStillVerifies()
    {
        using var dir = new TempDirectory();
        var audit = Path.Combine(dir.Path, "audit");
        using var mount = IsRoot ? TmpfsMount.Create(dir.Path, "size=1m") : null;
        string tip;
        await using (var log = AuditLog.Open(audit))
        {
            await log.AppendAsync(TestReceipts.V1(1));
            tip = (await log.AppendAsync(TestReceipts.V1(2))).RecordHash;
        }

        MakeReadOnly(dir.Path, audit, mount);
        var open = Assert.Throws<SignetException>(() => AuditLog.Open(audit));
        Assert.Contains(audit, open.Message, StringComparison.Ordinal);
        Assert.Contains(IsRoot ? "Read-only file system" : "denied", open.Message, StringComparison.OrdinalIgnoreCase);

        var result = AuditVerifier.Verify(audit);
        Assert.True(result.IsIntact);
        Assert.Equal(2, result.RecordCount);
        Assert.Equal(tip, result.TipHash);
        mount?.MakeWritable();
        if (!IsRoot)
        {
            File.SetUnixFileMode(audit, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task Open_TornTailOnFullDisk_FailsNamingTheCauseAndLeavesNoPartialTornFile()
    {
        if (!IsRoot)
        {
            return; // a size-limited file system needs a mount
        }
        using var dir = new TempDirectory();
        using var mount = TmpfsMount.Create(dir.Path, "size=512k");
        var audit = Path.Combine(dir.Path, "audit");
        var day = await WriteTwo(audit);
        File.AppendAllText(day, "{\"receipt\":{\"v\":1,\"pad\":\"" + new string('x', 128 * 1024)); // no newline: torn
        var damaged = File.ReadAllBytes(day);
        var filler = FillDisk(dir.File("filler"));

        var error = Assert.Throws<SignetException>(() => AuditLog.Open(audit));
        Assert.Contains("No space left on device", error.Message, StringComparison.Ordinal);
        Assert.Contains(".torn", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(audit, "*.torn*"));
        Assert.Equal(damaged, File.ReadAllBytes(day));

        File.Delete(filler);
        await using (var log = AuditLog.Open(audit))
        {
            var torn = Assert.Single(log.RecoveredTornTails);
            Assert.Equal(damaged.Length - torn.Offset, new FileInfo(torn.SavedAs).Length);
        }
        AuditAssert.Intact(audit, 2);
    }

    [Fact]
    public async Task RepairAsync_FullDisk_FailsNamingTheCauseAndLeavesNoPartialRepairFile()
    {
        if (!IsRoot)
        {
            return; // a size-limited file system needs a mount
        }
        using var dir = new TempDirectory();
        using var mount = TmpfsMount.Create(dir.Path, "size=512k");
        var audit = Path.Combine(dir.Path, "audit");
        var day = await WriteTwo(audit);
        File.AppendAllText(day, "{\"receipt\":{\"v\":1,\"pad\":\"" + new string('x', 128 * 1024) + "\n"); // complete, not a record
        var damaged = File.ReadAllBytes(day);
        var filler = FillDisk(dir.File("filler"));

        var error = await Assert.ThrowsAsync<SignetException>(() => AuditLog.RepairAsync(audit, _ => TestReceipts.V1(9)));
        Assert.Contains("No space left on device", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(audit, "*.corrupt*"));
        Assert.Equal(damaged, File.ReadAllBytes(day));
        Assert.Throws<AuditLogCorruptException>(() => AuditLog.Open(audit));

        File.Delete(filler);
        var repaired = await AuditLog.RepairAsync(audit, _ => TestReceipts.V1(9));
        Assert.Single(repaired.Repaired);
        AuditAssert.Intact(audit, 3);
    }

    private static async Task<string> WriteTwo(string audit)
    {
        await using var log = AuditLog.Open(audit);
        await log.AppendAsync(TestReceipts.V1(1));
        return (await log.AppendAsync(TestReceipts.V1(2))).File;
    }

    /// <summary>Writes a file until the file system is full; returns its path.</summary>
    private static string FillDisk(string path)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
        var chunk = new byte[4096];
        try
        {
            while (true)
            {
                stream.Write(chunk);
            }
        }
        catch (IOException)
        {
            return path; // ENOSPC
        }
    }

    private static void MakeReadOnly(string root, string audit, TmpfsMount? mount)
    {
        if (mount is not null)
        {
            mount.MakeReadOnly();
            return;
        }
        foreach (var file in Directory.GetFiles(audit))
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead);
        }
        File.SetUnixFileMode(audit, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        _ = root;
    }

    private sealed class TmpfsMount : IDisposable
    {
        private readonly string _path;
        private bool _mounted;

        private TmpfsMount(string path) => _path = path;

        public static TmpfsMount Create(string path, string options)
        {
            var mount = new TmpfsMount(path);
            Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", path);
            mount._mounted = true;
            return mount;
        }

        public void MakeReadOnly() => Run("mount", "-o", "remount,ro", _path);

        public void MakeWritable() => Run("mount", "-o", "remount,rw", _path);

        public void Dispose()
        {
            if (_mounted)
            {
                Run("umount", "-l", _path);
                _mounted = false;
            }
        }

        private static void Run(string command, params string[] args)
        {
            var info = new ProcessStartInfo(command) { RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args)
            {
                info.ArgumentList.Add(a);
            }
            using var p = Process.Start(info)!;
            var error = p.StandardError.ReadToEnd();
            if (!p.WaitForExit(60_000) || p.ExitCode != 0)
            {
                throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed: {error}");
            }
        }
    }
}
