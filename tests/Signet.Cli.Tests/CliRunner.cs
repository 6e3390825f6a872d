using Microsoft.Extensions.Time.Testing;

namespace Signet.Cli.Tests;

/// <summary>Runs the signet command in-process with its own streams and environment.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static Task<Result> RunAsync(string[] args, string stdin = "", IDictionary<string, string?>? env = null, TimeProvider? time = null) =>
        RunAsync(args, System.Text.Encoding.UTF8.GetBytes(stdin), env, time);

    /// <summary>Runs with raw bytes on stdin (the text reader sees them decoded, the byte stream as they are).</summary>
    public static async Task<Result> RunAsync(string[] args, byte[] stdin, IDictionary<string, string?>? env = null, TimeProvider? time = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = env ?? new Dictionary<string, string?>();
        var console = new CliConsole
        {
            In = new StringReader(System.Text.Encoding.UTF8.GetString(stdin)),
            OpenStandardInput = () => new MemoryStream(stdin, writable: false),
            Out = output,
            Error = error,
            GetEnvironmentVariable = name => environment.TryGetValue(name, out var v) ? v : null,
            IsInteractive = false,
            Time = time ?? new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero)),
        };
        var code = await SignetCli.RunAsync(args, console);
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>A path inside the reference Signet's vectors, kept in tests/vectors/reference-signet of the repository.</summary>
    public static string SharedVectors(params string[] parts) => RepositoryFile(["tests", "vectors", "reference-signet", .. parts]);

    /// <summary>A path inside the repository the tests run from (README.md, docs/…).</summary>
    public static string RepositoryFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
            {
                return Path.Combine([dir.FullName, .. parts]);
            }
        }
        throw new InvalidOperationException("Signet.sln not found above the test binaries: run the tests from a checkout of the repository");
    }
}

/// <summary>A temporary directory removed at the end of the test.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "signet-test-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
