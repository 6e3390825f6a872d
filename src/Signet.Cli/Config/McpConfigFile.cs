namespace Signet.Cli.Config;

/// <summary>Reads a client config and replaces it safely: a backup first, then a temp file, fsync and rename.</summary>
internal static class McpConfigFile
{
    /// <summary>The suffix of the backup written beside a config before its first change.</summary>
    public const string BackupSuffix = ".signet-backup";

    /// <summary>How many backups of one config are kept: the newest ones; older ones are deleted after each change.</summary>
    public const int BackupsKept = 5;

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
    /// <paramref name="original"/> (mode 0600, since a config can hold secrets; the newest <see cref="BackupsKept"/>
    /// backups are kept). Fails, leaving the file as it is, if the file no longer holds <paramref name="original"/>
    /// (a client rewrote it meanwhile). Returns the backup's path.
    /// </summary>
    /// <param name="path">The config file.</param>
    /// <param name="original">The bytes the file must still hold.</param>
    /// <param name="result">The new content.</param>
    /// <param name="time">The clock that names later backups.</param>
    /// <param name="holdsSecret">The new content holds a secret: the file is made readable by its owner only (0600).</param>
    public static string Replace(string path, byte[] original, byte[] result, TimeProvider time, bool holdsSecret = false)
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
            WriteDurably(backup, original, OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite, FileMode.CreateNew);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new McpConfigException($"cannot write a backup beside the file ({e.Message}); nothing was changed", path);
        }

        var temp = Path.Combine(Path.GetDirectoryName(target)!, "." + Path.GetFileName(target) + ".signet-tmp");
        try
        {
            var resultMode = holdsSecret && mode is not null ? UnixFileMode.UserRead | UnixFileMode.UserWrite : mode;
            WriteDurably(temp, result, resultMode, FileMode.Create);
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new McpConfigException($"cannot replace the file ({e.Message}); it is unchanged and a backup is at {backup}", path);
        }
        PruneBackups(target, backup);
        return backup;
    }

    /// <summary>The backups of <paramref name="path"/>, oldest first.</summary>
    public static IReadOnlyList<string> Backups(string path)
    {
        var target = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(target)!;
        var plain = Path.GetFileName(target) + BackupSuffix;
        var found = new List<(string Stamp, int N, string Path)>();
        foreach (var file in Directory.EnumerateFiles(directory, plain + "*"))
        {
            var rest = Path.GetFileName(file)[plain.Length..];
            if (rest.Length == 0)
            {
                found.Add(("", 0, file));
                continue;
            }
            // -yyyyMMddTHHmmssZ, or -yyyyMMddTHHmmssZ-N when one was written in the same second.
            var parts = rest.Split('-');
            if (parts.Length is 2 or 3 && parts[0].Length == 0 && parts[1].Length == 16 && parts[1].EndsWith('Z'))
            {
                var n = 1;
                if (parts.Length == 3 && !int.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out n))
                {
                    continue;
                }
                found.Add((parts[1], n, file));
            }
        }
        return found.OrderBy(f => f.Stamp, StringComparer.Ordinal).ThenBy(f => f.N).Select(f => f.Path).ToList();
    }

    // Backups of every earlier change would pile up; the newest few are enough to go back (and the one just written
    // is never deleted, whatever the clock says).
    private static void PruneBackups(string target, string written)
    {
        try
        {
            var backups = Backups(target).Where(b => b != written).ToList();
            foreach (var old in backups.Take(Math.Max(0, backups.Count - (BackupsKept - 1))))
            {
                TryDelete(old);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Pruning is housekeeping: the change itself has been made.
        }
    }

    // The first backup keeps the plain name; later ones get a UTC timestamp so no earlier backup is overwritten.
    private static string BackupPath(string target, TimeProvider time)
    {
        var plain = target + BackupSuffix;
        if (Backups(target).Count == 0)
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
