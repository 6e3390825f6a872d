using System.Globalization;

namespace Signet.Benchmarks;

/// <summary>
/// CPU time (user + system) of a process's live children and of their children, read from /proc (Linux only;
/// elsewhere both are 0). The harnesses launch one child at a time, so "children" is the process under measurement.
/// </summary>
internal static class ProcessCpu
{
    private static readonly double s_microsecondsPerTick = 1_000_000.0 / 100; // USER_HZ is 100 on Linux

    public static (double Own, double Children) OfChildren(int parent)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (0, 0);
        }
        var stats = ReadAll();
        double own = 0, children = 0;
        foreach (var child in stats.Where(s => s.Parent == parent && s.State != 'Z'))
        {
            own += child.Ticks;
            children += stats.Where(s => s.Parent == child.Pid).Sum(s => s.Ticks);
        }
        return (own * s_microsecondsPerTick, children * s_microsecondsPerTick);
    }

    /// <summary>CPU time (user + system) of one process, in µs (0 when it is gone or not on Linux).</summary>
    public static double Of(int pid) =>
        OperatingSystem.IsLinux() ? ReadAll().Where(s => s.Pid == pid).Sum(s => s.Ticks) * s_microsecondsPerTick : 0;

    /// <summary>CPU time of a process's live children other than <paramref name="except"/>, in µs.</summary>
    public static double OfChildrenExcept(int parent, int except) =>
        OperatingSystem.IsLinux() ? ReadAll().Where(s => s.Parent == parent && s.Pid != except && s.State != 'Z').Sum(s => s.Ticks) * s_microsecondsPerTick : 0;

    private static List<(int Pid, int Parent, char State, long Ticks)> ReadAll()
    {
        var result = new List<(int, int, char, long)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            string text;
            try
            {
                text = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue; // ended while we looked
            }
            // The command name in parentheses may hold spaces; the fields after its closing parenthesis are fixed:
            // state, ppid, ... utime (14th field overall), stime (15th).
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            result.Add((pid, int.Parse(fields[1], CultureInfo.InvariantCulture), fields[0][0],
                long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)));
        }
        return result;
    }
}
