namespace Signet.Fuzz;

/// <summary>Reruns saved inputs (a crash afl-fuzz found, a corpus) in-process, printing what each one throws.</summary>
internal static class Replay
{
    public static int Run(Targets.Target target, string[] paths)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]).ToList();
        var failed = 0;
        foreach (var file in files)
        {
            var input = File.ReadAllBytes(file);
            try
            {
                target(input);
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"CRASH {file} ({input.Length} bytes)");
                Console.WriteLine($"  input (hex): {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 4096)))}");
                Console.WriteLine($"  input (text): {System.Text.Encoding.UTF8.GetString(input.AsSpan(0, Math.Min(input.Length, 4096))).ReplaceLineEndings("\\n")}");
                Console.WriteLine("  " + e.ToString().ReplaceLineEndings("\n  "));
            }
        }
        Console.WriteLine($"replayed {files.Count} input(s): {failed} crash(es)");
        return failed == 0 ? 0 : 1;
    }
}
