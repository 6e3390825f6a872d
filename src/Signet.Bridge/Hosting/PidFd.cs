using System.Runtime.InteropServices;

namespace Signet.Bridge.Hosting;

/// <summary>
/// Linux process file descriptors (pidfd_open(2), Linux 5.3+): a handle on one process that becomes readable when the
/// process ends, so a wait needs neither polling nor trust in a pid that may have been reused.
/// </summary>
internal static partial class PidFd
{
    /// <summary>The process was already gone when it was to be opened.</summary>
    public const int Gone = -2;

    /// <summary>No pidfd could be had (not Linux, an old kernel, no permission): the caller kills without waiting.</summary>
    public const int Unavailable = -1;

    // The same number on every Linux architecture (the syscall table is unified from 424 on).
    private const long SysPidFdOpen = 434;
    private const int NoSuchProcess = 3; // ESRCH
    private const int Interrupted = 4; // EINTR
    private const short PollIn = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseFd(int fd);

    /// <summary>A pidfd for <paramref name="pid"/>, <see cref="Gone"/>, or <see cref="Unavailable"/>.</summary>
    public static int Open(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return Unavailable;
        }
        var fd = Syscall(SysPidFdOpen, pid, 0);
        if (fd >= 0)
        {
            return (int)fd;
        }
        return Marshal.GetLastPInvokeError() == NoSuchProcess ? Gone : Unavailable;
    }

    /// <summary>Blocks until the process ended (true) or the timeout passed (false).</summary>
    public static bool WaitForExit(int pidFd, int timeoutMilliseconds)
    {
        var deadline = Environment.TickCount64 + timeoutMilliseconds;
        while (true)
        {
            var fds = new PollFd { Fd = pidFd, Events = PollIn };
            var left = (int)Math.Max(0, deadline - Environment.TickCount64);
            var ready = Poll(ref fds, 1, left);
            if (ready > 0)
            {
                return true;
            }
            if (ready == 0 || Marshal.GetLastPInvokeError() != Interrupted)
            {
                return false;
            }
        }
    }

    public static void Close(int pidFd) => CloseFd(pidFd);
}
