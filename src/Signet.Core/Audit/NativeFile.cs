using System.Runtime.InteropServices;

namespace Signet.Audit;

/// <summary>The few POSIX calls the log needs that .NET does not expose: blocking flock, directory fsync, statx of an open file.</summary>
/// <remarks>
/// The lock file is opened with open(2) directly, not through FileStream: .NET takes its own non-blocking
/// <c>flock(LOCK_SH)</c> on every file it opens for writing, which would make a reference writer that
/// <c>flock(LOCK_EX)</c>s the same lock file wait for as long as this process keeps the file open.
/// </remarks>
internal static partial class NativeFile
{
    private const int LockExclusive = 2;
    private const int LockUnlock = 8;
    private const int LockNonBlocking = 4;
    private const int ReadOnly = 0;
    private const int ReadWrite = 2;

    private static int CreateFlag => OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 0x200 : 0x40;

    private static int CloseOnExecFlag => OperatingSystem.IsMacOS() ? 0x1000000 : OperatingSystem.IsFreeBSD() ? 0x100000 : 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    private const int AtEmptyPath = 0x1000;
    private const uint StatxNlink = 0x4;
    private const uint StatxSize = 0x200;
    private static volatile bool s_noStatx = !OperatingSystem.IsLinux();

    /// <summary>Opens (creating, 0644) a lock file and returns its descriptor.</summary>
    public static int OpenLockFile(string path)
    {
        var fd = Open(path, ReadWrite | CreateFlag | CloseOnExecFlag, Convert.ToInt32("644", 8));
        if (fd < 0)
        {
            throw Error($"cannot open the lock file {path}");
        }
        return fd;
    }

    /// <summary>Blocks until this descriptor holds an exclusive flock.</summary>
    public static void LockExclusiveBlocking(int fd, string path)
    {
        while (Flock(fd, LockExclusive) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != 4) // EINTR: a signal interrupted the wait; wait again
            {
                throw Error($"cannot lock {path}", errno);
            }
        }
    }

    /// <summary>Takes an exclusive flock without waiting; false when another descriptor holds one.</summary>
    public static bool TryLockExclusive(int fd, string path)
    {
        while (Flock(fd, LockExclusive | LockNonBlocking) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == 11 || errno == 35) // EWOULDBLOCK (Linux 11, BSD/macOS 35): held elsewhere
            {
                return false;
            }
            if (errno != 4)
            {
                throw Error($"cannot lock {path}", errno);
            }
        }
        return true;
    }

    /// <summary>Releases the flock held through this descriptor.</summary>
    public static void Unlock(int fd) => _ = Flock(fd, LockUnlock);

    /// <summary>Closes a descriptor.</summary>
    public static void CloseDescriptor(int fd) => _ = Close(fd);

    /// <summary>
    /// Reads an open file's size and link count with one <c>statx(2)</c> on its descriptor, without looking its path up
    /// again: a link count of 0 means the file was removed or replaced (renamed over) since it was opened. False where
    /// statx is not available (not Linux, or a libc or kernel without it); the caller then looks the path up instead.
    /// </summary>
    public static unsafe bool TryStatOpenFile(Microsoft.Win32.SafeHandles.SafeFileHandle handle, out long size, out long links)
    {
        size = 0;
        links = 0;
        if (s_noStatx)
        {
            return false;
        }
        // struct statx is 256 bytes on every architecture: stx_nlink (u32) at offset 16, stx_size (u64) at 40.
        var buffer = stackalloc byte[256];
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int result;
            try
            {
                result = Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxNlink | StatxSize, buffer);
            }
            catch (EntryPointNotFoundException)
            {
                s_noStatx = true;
                return false;
            }
            if (result != 0)
            {
                // ENOSYS: a kernel without statx; EPERM: a seccomp filter that refuses it (older container runtimes).
                // Either way, and for any other error, the path lookup takes over and reports what is really wrong.
                var errno = Marshal.GetLastPInvokeError();
                if (errno is 38 or 1)
                {
                    s_noStatx = true;
                }
                return false;
            }
            var mask = *(uint*)buffer;
            if ((mask & (StatxNlink | StatxSize)) != (StatxNlink | StatxSize))
            {
                return false;
            }
            links = *(uint*)(buffer + 16);
            size = *(long*)(buffer + 40);
            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Makes a directory's entries durable (a new file's name survives a crash only after this).</summary>
    public static void FsyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // NTFS journals directory entries; there is no directory handle to flush.
        }
        var fd = Open(directory, ReadOnly | CloseOnExecFlag, 0);
        if (fd < 0)
        {
            throw Error($"cannot open directory {directory} to fsync it");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw Error($"fsync of directory {directory} failed");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static IOException Error(string what, int? errno = null)
    {
        var code = errno ?? Marshal.GetLastPInvokeError();
        return new IOException($"{what}: {Marshal.GetPInvokeErrorMessage(code)} (errno {code})", code);
    }
}
