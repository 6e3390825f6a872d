using System.Diagnostics;
using System.Text;

namespace Signet.Tests.Shared;

/// <summary>
/// The Go programs in tests/interop/go, built once per test run in GOPATH mode over Debian's golang-golang-x-mod-dev
/// (Go 1.19, no module download): code this project did not write checks our checkpoints, notes, tiles and proofs.
/// A missing Go is a test failure that says what to install, never a skip.
/// </summary>
internal static class GoDriver
{
    private const string GoPath = "/usr/share/gocode";
    private const string Install = "install golang-go golang-golang-x-mod-dev (apt-get install golang-go golang-golang-x-mod-dev; .ci/run does)";
    private static readonly Dictionary<string, Lazy<string>> Built = new(StringComparer.Ordinal);
    private static readonly string Work = System.IO.Path.GetTempPath();

    /// <summary>The built program <paramref name="name"/> (<c>notecheck</c>, <c>tlogcheck</c>).</summary>
    public static string Path(string name)
    {
        Lazy<string> lazy;
        lock (Built)
        {
            if (!Built.TryGetValue(name, out lazy!))
            {
                Built[name] = lazy = new Lazy<string>(() => Build(name));
            }
        }
        return lazy.Value;
    }

    /// <summary>Runs a built program; returns its exit code and output.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string name, IEnumerable<string> args, string? stdin = null) =>
        Execute(Path(name), args, Work, new Dictionary<string, string>(), stdin);

    private static string Build(string name)
    {
        var go = FindGo() ?? throw new InvalidOperationException($"go is not on PATH: {Install}");
        if (!Directory.Exists(System.IO.Path.Combine(GoPath, "src", "golang.org", "x", "mod", "sumdb")))
        {
            throw new InvalidOperationException($"golang.org/x/mod is not in {GoPath}: {Install}");
        }
        var source = System.IO.Path.Combine(RepositoryRoot(), "tests", "interop", "go", name);
        // One build per version of the program's source, reused by later runs instead of left behind by each.
        var version = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(System.IO.Path.Combine(source, "main.go"))))[..16];
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"signet-go-{name}-{version}");
        var binary = System.IO.Path.Combine(folder, name);
        if (File.Exists(binary))
        {
            return binary;
        }
        Directory.CreateDirectory(folder);
        var building = binary + "." + Environment.ProcessId;
        var (code, _, stderr) = Execute(go, ["build", "-o", building, "."], source, new Dictionary<string, string>
        {
            ["GO111MODULE"] = "off",
            ["GOPATH"] = folder + ":" + GoPath,
            ["GOCACHE"] = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "signet-go-cache"),
            ["GOFLAGS"] = "",
        }, null);
        if (code != 0)
        {
            throw new InvalidOperationException($"go build of {source} failed ({code}): {stderr}");
        }
        File.Move(building, binary, overwrite: true);
        return binary;
    }

    private static string? FindGo()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, "go");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return File.Exists("/usr/lib/go/bin/go") ? "/usr/lib/go/bin/go" : null;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Signet.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Signet.sln not found above the test binaries: run the tests from a checkout of the repository");
    }

    private static (int ExitCode, string Stdout, string Stderr) Execute(string file, IEnumerable<string> args, string directory, Dictionary<string, string> environment, string? stdin)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 120 s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
