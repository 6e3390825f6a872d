using System.Text;

namespace Signet.Cli.Config;

/// <summary>A unified diff of two texts (line based, three lines of context), for <c>--dry-run</c>.</summary>
internal static class UnifiedDiff
{
    private const int Context = 3;

    // Beyond this many cells the changed middle is shown as one replacement instead of a minimal diff.
    private const long MaxTableCells = 16_000_000;

    /// <summary>The diff from <paramref name="before"/> to <paramref name="after"/>; empty when they are equal.</summary>
    public static string Create(string before, string after, string beforeLabel, string afterLabel)
    {
        var a = SplitLines(before);
        var b = SplitLines(after);
        var ops = Script(a, b);
        if (ops.All(o => o.Kind == ' '))
        {
            return "";
        }

        var text = new StringBuilder();
        text.Append("--- ").Append(beforeLabel).Append('\n').Append("+++ ").Append(afterLabel).Append('\n');
        var i = 0;
        while (i < ops.Count)
        {
            if (ops[i].Kind == ' ')
            {
                i++;
                continue;
            }
            // A hunk runs from Context lines before this change to Context lines after the last change
            // that is no more than 2 * Context equal lines away.
            var start = Math.Max(0, i - Context);
            var end = i;
            while (true)
            {
                while (end < ops.Count && ops[end].Kind != ' ')
                {
                    end++;
                }
                var next = end;
                while (next < ops.Count && ops[next].Kind == ' ')
                {
                    next++;
                }
                if (next < ops.Count && next - end <= 2 * Context)
                {
                    end = next;
                    continue;
                }
                end = Math.Min(ops.Count, end + Context);
                break;
            }
            var hunk = ops.GetRange(start, end - start);
            var oldStart = hunk.FirstOrDefault(o => o.Kind != '+').OldLine;
            var newStart = hunk.FirstOrDefault(o => o.Kind != '-').NewLine;
            var oldCount = hunk.Count(o => o.Kind != '+');
            var newCount = hunk.Count(o => o.Kind != '-');
            text.Append($"@@ -{Range(oldStart, oldCount, ops, start, old: true)} +{Range(newStart, newCount, ops, start, old: false)} @@\n");
            foreach (var op in hunk)
            {
                text.Append(op.Kind).Append(op.Text).Append('\n');
            }
            i = end;
        }
        return text.ToString();
    }

    private static string Range(int firstLine, int count, List<Op> ops, int start, bool old)
    {
        if (count == 0)
        {
            // An empty range names the line before it, as diff(1) does.
            var before = ops.Take(start).Count(o => old ? o.Kind != '+' : o.Kind != '-');
            return $"{before},0";
        }
        return count == 1 ? $"{firstLine + 1}" : $"{firstLine + 1},{count}";
    }

    private static List<Op> Script(string[] a, string[] b)
    {
        var prefix = 0;
        while (prefix < a.Length && prefix < b.Length && a[prefix] == b[prefix])
        {
            prefix++;
        }
        var suffix = 0;
        while (suffix < a.Length - prefix && suffix < b.Length - prefix && a[^(suffix + 1)] == b[^(suffix + 1)])
        {
            suffix++;
        }

        var ops = new List<Op>();
        for (var k = 0; k < prefix; k++)
        {
            ops.Add(new Op(' ', a[k], k, k));
        }
        int n = a.Length - prefix - suffix, m = b.Length - prefix - suffix;
        if ((long)(n + 1) * (m + 1) <= MaxTableCells)
        {
            // Longest common subsequence over the changed middle.
            var table = new int[n + 1, m + 1];
            for (var x = n - 1; x >= 0; x--)
            {
                for (var y = m - 1; y >= 0; y--)
                {
                    table[x, y] = a[prefix + x] == b[prefix + y] ? table[x + 1, y + 1] + 1 : Math.Max(table[x + 1, y], table[x, y + 1]);
                }
            }
            int p = 0, q = 0;
            while (p < n || q < m)
            {
                if (p < n && q < m && a[prefix + p] == b[prefix + q])
                {
                    ops.Add(new Op(' ', a[prefix + p], prefix + p, prefix + q));
                    p++;
                    q++;
                }
                else if (p < n && (q == m || table[p + 1, q] >= table[p, q + 1]))
                {
                    ops.Add(new Op('-', a[prefix + p], prefix + p, prefix + q));
                    p++;
                }
                else
                {
                    ops.Add(new Op('+', b[prefix + q], prefix + p, prefix + q));
                    q++;
                }
            }
        }
        else
        {
            for (var k = 0; k < n; k++)
            {
                ops.Add(new Op('-', a[prefix + k], prefix + k, prefix));
            }
            for (var k = 0; k < m; k++)
            {
                ops.Add(new Op('+', b[prefix + k], prefix + n, prefix + k));
            }
        }
        for (var k = 0; k < suffix; k++)
        {
            ops.Add(new Op(' ', a[a.Length - suffix + k], a.Length - suffix + k, b.Length - suffix + k));
        }
        return ops;
    }

    private static string[] SplitLines(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }

    private readonly record struct Op(char Kind, string Text, int OldLine, int NewLine);
}
