using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Signet.Keys;

/// <summary>
/// The few libc calls the signer agent needs that .NET does not expose (Linux only): the effective uid, a file's owner
/// and type, a socket peer's credentials, and the agent process's hygiene (no core dumps, not ptrace-able).
/// </summary>
internal static partial class UnixCalls
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int PrSetDumpable = 4;
    private const int RlimitCore = 4;
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxTypeModeUid = 0x1 | 0x2 | 0x8;
    private const int SocketType = 0xC000; // S_IFSOCK
    private const int TypeMask = 0xF000;   // S_IFMT

    /// <summary>The effective uid of this process.</summary>
    public static uint EffectiveUid => geteuid();

    /// <summary>The pid, uid and gid of the process at the other end of a connected Unix socket (SO_PEERCRED).</summary>
    public static (int Pid, uint Uid, uint Gid) PeerCredentials(Socket socket)
    {
        Span<byte> buffer = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, buffer);
        if (length < 12)
        {
            throw new SocketException((int)SocketError.ProtocolNotSupported);
        }
        return (MemoryMarshal.Read<int>(buffer), MemoryMarshal.Read<uint>(buffer[4..]),
            MemoryMarshal.Read<uint>(buffer[8..]));
    }

    /// <summary>The owner of a path (not following a final symlink) and whether it is a socket; null when it does not exist.</summary>
    /// <remarks>statx(2) has one layout on every Linux architecture, unlike struct stat: uid at offset 20, mode at 28 (native byte order).</remarks>
    public static (uint Uid, bool IsSocket)? Owner(string path)
    {
        Span<byte> buffer = stackalloc byte[256];
        int result;
        unsafe
        {
            fixed (byte* p = buffer)
            {
                result = Audit.NativeFile.Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxTypeModeUid, p);
            }
        }
        if (result != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == 2 /* ENOENT */ ? null : throw new IOException($"cannot stat {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        var uid = MemoryMarshal.Read<uint>(buffer[20..]);
        var mode = MemoryMarshal.Read<ushort>(buffer[28..]);
        return (uid, (mode & TypeMask) == SocketType);
    }

    /// <summary>
    /// Makes this process undumpable (no core file; /proc/PID/mem, environ and ptrace closed to other processes of the
    /// same uid) and sets the core size limit to zero. Returns what failed, or null.
    /// </summary>
    public static string? HardenProcess()
    {
        var problems = new List<string>();
        if (prctl(PrSetDumpable, 0, 0, 0, 0) != 0)
        {
            problems.Add("prctl(PR_SET_DUMPABLE, 0): " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }
        var zero = new ulong[2];
        if (setrlimit(RlimitCore, zero) != 0)
        {
            problems.Add("setrlimit(RLIMIT_CORE, 0): " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, [In] ulong[] limit);
}
