using System.Text;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

/// <summary>Writes audit-log-shaped day files of small JSON records for tree tests, and reads their lines back directly.</summary>
internal static class TreeTestLog
{
    public static string Record(long i) => $"{{\"i\":{i},\"tool\":\"search\",\"pad\":\"{new string('x', (int)(i % 17))}\"}}";

    /// <summary>Appends records <paramref name="from"/>..<paramref name="from"/>+<paramref name="count"/>-1 to a day file.</summary>
    public static void Append(string directory, string dayFile, long from, long count)
    {
        var sb = new StringBuilder();
        for (var i = from; i < from + count; i++)
        {
            sb.Append(Record(i)).Append('\n');
        }
        File.AppendAllText(Path.Combine(directory, dayFile), sb.ToString());
    }

    /// <summary>The leaf hashes of every record line (non-blank, newline-ended) in the day files, read without the tree.</summary>
    public static List<byte[]> LeafHashes(string directory) =>
        [.. Lines(directory).Select(l => MerkleTree.LeafHash(l.Bytes))];

    public static List<(string File, int Line, byte[] Bytes)> Lines(string directory)
    {
        var result = new List<(string, int, byte[])>();
        foreach (var file in Directory.GetFiles(directory, "????-??-??.jsonl").Order(StringComparer.Ordinal))
        {
            var data = File.ReadAllBytes(file);
            var start = 0;
            var number = 0;
            for (var i = 0; i < data.Length; i++)
            {
                if (data[i] != '\n')
                {
                    continue;
                }
                number++;
                var line = data[start..i];
                start = i + 1;
                if (line.AsSpan().IndexOfAnyExcept(" \t\r"u8) >= 0)
                {
                    result.Add((file, number, line));
                }
            }
        }
        return result;
    }

    public static string Hex(byte[] hash) => Convert.ToHexStringLower(hash);
}
