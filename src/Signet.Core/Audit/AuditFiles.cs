using Microsoft.Win32.SafeHandles;

namespace Signet.Audit;

/// <summary>The real file operations: <see cref="RandomAccess"/>, and <see cref="NativeFile"/> for what .NET does not expose.</summary>
internal sealed class AuditFiles : IAuditFiles
{
    /// <summary>The one instance.</summary>
    public static AuditFiles System { get; } = new();

    private AuditFiles()
    {
    }

    public void Write(SafeFileHandle handle, ReadOnlySpan<byte> bytes, long offset) => RandomAccess.Write(handle, bytes, offset);

    public void SetLength(SafeFileHandle handle, long length) => RandomAccess.SetLength(handle, length);

    public void FlushToDisk(SafeFileHandle handle) => RandomAccess.FlushToDisk(handle);

    public void FsyncDirectory(string directory) => NativeFile.FsyncDirectory(directory);

    public bool TryStatOpenFile(SafeFileHandle handle, out long size, out long links) => NativeFile.TryStatOpenFile(handle, out size, out links);

    public FileScan Scan(string path, long from, long linesBefore, FileScan? previous) => AuditFileScanner.Scan(path, from, linesBefore, previous);
}
