namespace Signet.Mcp.Tests.Interop;

/// <summary>A fresh directory under the system temp directory, deleted (best effort) on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    /// <summary>Creates the directory.</summary>
    public TempDirectory() => Directory.CreateDirectory(Path);

    /// <summary>The directory's full path (symbolic links resolved, as servers that canonicalize paths report it).</summary>
    public string Path { get; } = ResolveLinks(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "signet-tests-" + Guid.NewGuid().ToString("N")));

    /// <summary>A path inside the directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Deletes the directory and its contents.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child still holding a file; the OS cleans temp eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string ResolveLinks(string path)
    {
        // /tmp is a link on macOS; resolve the parent so reported paths match.
        var parent = new DirectoryInfo(System.IO.Path.GetDirectoryName(path)!);
        var target = parent.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? parent.FullName;
        return System.IO.Path.Combine(target, System.IO.Path.GetFileName(path));
    }
}
