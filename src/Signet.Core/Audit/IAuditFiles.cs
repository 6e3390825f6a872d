using Microsoft.Win32.SafeHandles;

namespace Signet.Audit;

/// <summary>
/// The file operations the audit log's durability rests on: writing a batch, cutting a failed write back, fsync of a
/// file and of the directory, the <c>statx</c> of the open day file, and the forward scan of a day file on open and
/// catch-up.
/// </summary>
/// <remarks>
/// <see cref="AuditFiles.System"/> is the only production implementation. The seam exists so that tests can make an
/// operation fail as a full or failing disk would (an fsync error, a platform without <c>statx</c>) and watch which
/// thread fsyncs or where a scan starts, none of which a test can cause with real files on this machine.
/// </remarks>
internal interface IAuditFiles
{
    /// <summary>Writes <paramref name="bytes"/> at <paramref name="offset"/>.</summary>
    void Write(SafeFileHandle handle, ReadOnlySpan<byte> bytes, long offset);

    /// <summary>Cuts the file to <paramref name="length"/> bytes.</summary>
    void SetLength(SafeFileHandle handle, long length);

    /// <summary>fsync: returns once what was written through the handle is on the device.</summary>
    void FlushToDisk(SafeFileHandle handle);

    /// <summary>fsync of a directory, so that a file created or renamed in it survives a crash.</summary>
    void FsyncDirectory(string directory);

    /// <summary>Size and link count of an open file (one <c>statx</c>); false where that is not available.</summary>
    bool TryStatOpenFile(SafeFileHandle handle, out long size, out long links);

    /// <summary>Scans a day file forward from a line start (see <see cref="AuditFileScanner.Scan"/>).</summary>
    FileScan Scan(string path, long from, long linesBefore, FileScan? previous);
}
