using Signet.Audit;

namespace Signet.Transparency;

/// <summary>Replacing a small file so that a crash leaves either the old or the new content, and the new one survives.</summary>
internal static class DurableFile
{
    /// <summary>Writes a temporary file beside <paramref name="path"/>, fsyncs it, renames it over the path and fsyncs the directory.</summary>
    /// <exception cref="IOException">Writing, fsync or rename failed (the old file, if any, is untouched).</exception>
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        // A name of its own: two writers never share a temporary file.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        NativeFile.FsyncDirectory(directory);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more to tidy up; the original error is what the caller needs.
        }
    }
}
