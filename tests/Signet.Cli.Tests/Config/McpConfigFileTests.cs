using Microsoft.Extensions.Time.Testing;
using Signet.Cli.Config;

namespace Signet.Cli.Tests.Config;

public sealed class McpConfigFileTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 26, 13, 45, 7, TimeSpan.Zero));

    [Fact]
    public void Replace_FirstChange_WritesBackupAndNewContent()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("mcp.json", "old"u8.ToArray());

        var backup = McpConfigFile.Replace(path, "old"u8.ToArray(), "new"u8.ToArray(), Time);

        Assert.Equal(path + ".signet-backup", backup);
        Assert.Equal("old", File.ReadAllText(backup));
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["mcp.json", "mcp.json.signet-backup"], Directory.GetFiles(dir.Path).Select(f => Path.GetFileName(f)!).Order().ToArray());
    }

    [Fact]
    public void Replace_LaterChanges_KeepEveryEarlierBackup()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("mcp.json", "v1"u8.ToArray());

        McpConfigFile.Replace(path, "v1"u8.ToArray(), "v2"u8.ToArray(), Time);
        var second = McpConfigFile.Replace(path, "v2"u8.ToArray(), "v3"u8.ToArray(), Time);
        var third = McpConfigFile.Replace(path, "v3"u8.ToArray(), "v4"u8.ToArray(), Time);

        Assert.Equal(path + ".signet-backup-20261126T134507Z", second);
        Assert.Equal(path + ".signet-backup-20261126T134507Z-2", third);
        Assert.Equal("v1", File.ReadAllText(path + ".signet-backup"));
        Assert.Equal("v2", File.ReadAllText(second));
        Assert.Equal("v3", File.ReadAllText(third));
        Assert.Equal("v4", File.ReadAllText(path));
    }

    [Fact]
    public void Replace_ManyChanges_KeepsOnlyTheNewestBackups()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("mcp.json", "v0"u8.ToArray());
        var time = new FakeTimeProvider(Time.GetUtcNow());

        for (var i = 0; i < 8; i++)
        {
            McpConfigFile.Replace(path, System.Text.Encoding.UTF8.GetBytes($"v{i}"), System.Text.Encoding.UTF8.GetBytes($"v{i + 1}"), time);
            time.Advance(i % 2 == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(3));
        }

        var backups = McpConfigFile.Backups(path);
        Assert.Equal(McpConfigFile.BackupsKept, backups.Count);
        Assert.Equal(["v3", "v4", "v5", "v6", "v7"], backups.Select(File.ReadAllText).ToArray());
        Assert.Equal(McpConfigFile.BackupsKept + 1, Directory.GetFiles(dir.Path).Length);
    }

    [Fact]
    public void Replace_WorldReadableConfig_BackupIsOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var dir = new TempDirectory();
        var path = dir.Write("mcp.json", "old"u8.ToArray());
        var readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(path, readable);

        var backup = McpConfigFile.Replace(path, "old"u8.ToArray(), "new"u8.ToArray(), Time);
        var secret = McpConfigFile.Replace(path, "new"u8.ToArray(), "secret"u8.ToArray(), Time, holdsSecret: true);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(backup));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secret));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Replace_FileChangedSinceRead_FailsAndWritesNothing()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("mcp.json", "changed by the client"u8.ToArray());

        var e = Assert.Throws<McpConfigException>(() => McpConfigFile.Replace(path, "old"u8.ToArray(), "new"u8.ToArray(), Time));

        Assert.Contains("changed while it was being rewritten", e.Message, StringComparison.Ordinal);
        Assert.Equal("changed by the client", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Replace_UnixFile_KeepsItsMode()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var dir = new TempDirectory();
        var path = dir.Write(".claude.json", "old"u8.ToArray());
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var backup = McpConfigFile.Replace(path, "old"u8.ToArray(), "new"u8.ToArray(), Time);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(backup));
    }

    [Fact]
    public void Replace_Symlink_WritesTheTargetAndKeepsTheLink()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var dir = new TempDirectory();
        var target = dir.Write("dotfiles/mcp.json", "old"u8.ToArray());
        var link = dir.File("mcp.json");
        File.CreateSymbolicLink(link, target);

        McpConfigFile.Replace(link, "old"u8.ToArray(), "new"u8.ToArray(), Time);

        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal("new", File.ReadAllText(target));
        Assert.True(File.Exists(target + ".signet-backup"));
    }

    [Fact]
    public void Replace_TempFileCannotBeWritten_FailsAndLeavesTheFile()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("mcp.json", "old"u8.ToArray());
        Directory.CreateDirectory(dir.File(".mcp.json.signet-tmp"));

        var e = Assert.Throws<McpConfigException>(() => McpConfigFile.Replace(path, "old"u8.ToArray(), "new"u8.ToArray(), Time));

        Assert.Contains("it is unchanged and a backup is at", e.Message, StringComparison.Ordinal);
        Assert.Equal("old", File.ReadAllText(path));
    }

    [Fact]
    public void Replace_BackupCannotBeWritten_FailsBeforeTouchingTheFile()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("mcp.json", "old"u8.ToArray());
        dir.Write("mcp.json.signet-backup", "older"u8.ToArray());
        Directory.CreateDirectory(dir.File("mcp.json.signet-backup-20261126T134507Z"));

        var e = Assert.Throws<McpConfigException>(() => McpConfigFile.Replace(path, "old"u8.ToArray(), "new"u8.ToArray(), Time));

        Assert.Contains("cannot write a backup", e.Message, StringComparison.Ordinal);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.False(File.Exists(dir.File(".mcp.json.signet-tmp")));
    }

    [Fact]
    public void Read_MissingFile_NamesTheFile()
    {
        using var dir = new TempDirectory();

        var e = Assert.Throws<McpConfigException>(() => McpConfigFile.Read(dir.File("nope.json")));

        Assert.Equal(dir.File("nope.json"), e.File);
    }
}
