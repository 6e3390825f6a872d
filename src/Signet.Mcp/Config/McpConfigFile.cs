namespace Signet.Mcp.Config;

/// <summary>Reads a client config and replaces it safely: a backup first, then a temp file, fsync and rename.</summary>
public static class McpConfigFile
{
    /// <summary>The suffix of the backup written beside a config before its first change.</summary>
    public const string BackupSuffix = ".signet-backup";

    /// <summary>Reads the file; a missing or unreadable file becomes an <see cref="McpConfigException"/>.</summary>
    public static byte[] Read(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new McpConfigException(e is FileNotFoundException or DirectoryNotFoundException
                ? "no such file; give the path of an existing client config"
                : $"cannot read the file: {e.Message}", path);
        }
    }

    /// <summary>
    /// Replaces the file's content with <paramref name="result"/> after writing a backup of
    /// <paramref name="original"/>. Fails, leaving the file as it is, if the file no longer holds
    /// <paramref name="original"/> (a client rewrote it meanwhile). Returns the backup's path.
    /// </summary>
    public static string Replace(string path, byte[] original, byte[] result, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        // Write through a symlink (a config kept in a dotfiles repository, say) instead of replacing the link.
        var target = File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
        if (!Read(target).AsSpan().SequenceEqual(original))
        {
            throw new McpConfigException("the file changed while it was being rewritten (is the client running?); nothing was written, run the command again", path);
        }

        UnixFileMode? mode;
        string backup;
        try
        {
            mode = OperatingSystem.IsWindows() ? null : File.GetUnixFileMode(target);
            backup = BackupPath(target, time);
            WriteDurably(backup, original, mode, FileMode.CreateNew);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new McpConfigException($"cannot write a backup beside the file ({e.Message}); nothing was changed", path);
        }

        var temp = Path.Combine(Path.GetDirectoryName(target)!, "." + Path.GetFileName(target) + ".signet-tmp");
        try
        {
            WriteDurably(temp, result, mode, FileMode.Create);
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new McpConfigException($"cannot replace the file ({e.Message}); it is unchanged and a backup is at {backup}", path);
        }
        return backup;
    }

    // The first backup keeps the plain name; later ones get a UTC timestamp so no earlier backup is overwritten.
    private static string BackupPath(string target, TimeProvider time)
    {
        var plain = target + BackupSuffix;
        if (!File.Exists(plain))
        {
            return plain;
        }
        var stamped = $"{plain}-{time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}";
        var candidate = stamped;
        for (var n = 2; File.Exists(candidate); n++)
        {
            candidate = $"{stamped}-{n}";
        }
        return candidate;
    }

    private static void WriteDurably(string path, byte[] content, UnixFileMode? mode, FileMode fileMode)
    {
        var options = new FileStreamOptions { Mode = fileMode, Access = FileAccess.Write, Share = FileShare.None };
        if (mode is { } unixMode && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = unixMode;
        }
        using (var stream = new FileStream(path, options))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        if (mode is { } existing && !OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies only to new files and is filtered by the umask; set the mode exactly.
            File.SetUnixFileMode(path, existing);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
