using System.Diagnostics;
using System.Globalization;

namespace Signet.Bridge.Hosting;

/// <summary>
/// The descendants of a process, read from /proc on Linux. Taken before a child is asked to exit, so that grandchildren
/// re-parented to init when their parent exits (and <see cref="Process.Kill(bool)"/> can no longer find) are still ended.
/// </summary>
internal static class ProcessTree
{
    public static IReadOnlyList<int> Descendants(int root)
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                // /proc/PID/stat: "pid (comm) state ppid …"; comm may contain spaces and parentheses, so parse after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parent, out var list))
                {
                    children[parent] = list = new List<int>();
                }
                list.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process ended while we looked, or is not ours to read.
            }
        }
        var result = new List<int>();
        var queue = new Queue<int>();
        queue.Enqueue(root);
        while (queue.TryDequeue(out var pid))
        {
            if (children.TryGetValue(pid, out var list))
            {
                foreach (var child in list)
                {
                    result.Add(child);
                    queue.Enqueue(child);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Kills the processes that are still running (ones already gone are skipped) and waits, up to
    /// <paramref name="wait"/> in all, until each has ended, so that "swept" is true when this returns. On Linux each
    /// process is held by a pidfd before the kill: the wait is on that very process (a reused pid cannot stand in), and
    /// it ends when the process dies, reaped or not. Returns the processes still running after the wait.
    /// </summary>
    public static async Task<IReadOnlyList<int>> KillSurvivorsAsync(IEnumerable<int> pids, TimeSpan wait)
    {
        var held = new List<(int Pid, int PidFd)>();
        foreach (var pid in pids)
        {
            var pidFd = PidFd.Open(pid);
            if (pidFd == PidFd.Gone)
            {
                continue;
            }
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already exited, or not ours to signal (then the wait below reports it).
            }
            if (pidFd >= 0)
            {
                held.Add((pid, pidFd));
            }
        }
        if (held.Count == 0)
        {
            return [];
        }
        var deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        var survivors = new List<int>();
        try
        {
            // One blocking poll(2) per process, off the caller's thread; the deadline is shared.
            await Task.Run(() =>
            {
                foreach (var (pid, pidFd) in held)
                {
                    var left = (int)Math.Max(0, deadline - Environment.TickCount64);
                    if (!PidFd.WaitForExit(pidFd, left))
                    {
                        survivors.Add(pid);
                    }
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            foreach (var (_, pidFd) in held)
            {
                PidFd.Close(pidFd);
            }
        }
        return survivors;
    }
}
