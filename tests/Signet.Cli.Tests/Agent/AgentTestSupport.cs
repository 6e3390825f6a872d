using System.Diagnostics;
using Signet.Cli.Tests.Commands;
using Signet.Keys;

namespace Signet.Cli.Tests.Agent;

/// <summary>A running <c>signet agent</c> process, ready once it printed its socket line.</summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    private AgentProcess(SignetProcess process, string line)
    {
        Process = process;
        Line = line;
    }

    public SignetProcess Process { get; }

    /// <summary>The line it printed on stdout: <c>SIGNET_AGENT_SOCK=PATH; export SIGNET_AGENT_SOCK;</c>.</summary>
    public string Line { get; }

    /// <summary>Starts the agent and waits for its stdout line (it prints it once the socket listens).</summary>
    public static async Task<AgentProcess> StartAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment)
    {
        var process = SignetProcess.Start(["agent", .. args], environment);
        try
        {
            var line = await process.Output.ReadLineAsync().WaitAsync(SignetProcess.Timeout)
                ?? throw new InvalidOperationException("the agent exited before listening: " + await StderrAfterExitAsync(process));
            return new AgentProcess(process, line);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        await ProcessRun.RunAsync("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], new Dictionary<string, string?>());
        return await Process.WaitAsync();
    }

    private static async Task<string> StderrAfterExitAsync(SignetProcess process)
    {
        await process.WaitAsync();
        return process.Error;
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}

/// <summary>Runs a program to its end (without the test's <c>SIGNET_*</c> variables; a null value removes one) and returns its exit code and output.</summary>
internal static class ProcessRun
{
    /// <summary>The launcher that runs a program as the unprivileged uid 65534 (nobody), without root's groups.</summary>
    public static readonly string[] AsNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

    public static async Task<(int ExitCode, string Out, string Error)> RunAsync(string command, IEnumerable<string> args, IReadOnlyDictionary<string, string?> env)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("SIGNET_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(name);
        }
        foreach (var (name, value) in env)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync().WaitAsync(SignetProcess.Timeout);
        await process.WaitForExitAsync().WaitAsync(SignetProcess.Timeout);
        return (process.ExitCode, stdout, await stderr.WaitAsync(SignetProcess.Timeout));
    }

    /// <summary>Runs a program that must succeed; returns its stdout.</summary>
    public static async Task<string> RunOkAsync(string command, IEnumerable<string> args, IReadOnlyDictionary<string, string?> env)
    {
        var (code, output, error) = await RunAsync(command, args, env);
        Assert.True(code == 0, $"{command} {string.Join(' ', args.Take(3))} failed ({code}): {error}");
        return output;
    }

    /// <summary>Runs signet as uid 65534.</summary>
    public static Task<(int ExitCode, string Out, string Error)> SignetAsNobodyAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?> env)
    {
        RequireReachableByNobody(SignetProcess.Executable);
        return RunAsync(AsNobody[0], [.. AsNobody.Skip(1), SignetProcess.Executable, .. args], env);
    }

    /// <summary>
    /// Fails with what to do when uid 65534 cannot reach <paramref name="path"/> (a folder above it that others cannot
    /// enter, such as a 0700 home or mktemp folder): the process would otherwise die with a message about its own path.
    /// </summary>
    public static void RequireReachableByNobody(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            Assert.True((File.GetUnixFileMode(dir) & UnixFileMode.OtherExecute) != 0,
                $"{dir} cannot be entered by other users (mode {File.GetUnixFileMode(dir)}), so uid 65534 cannot run {path}: " +
                "run the tests from a checkout every user can reach (chmod o+x on that folder)");
        }
    }

    /// <summary>Gives a folder (and what is in it) to uid 65534.</summary>
    public static async Task GiveToNobodyAsync(string path)
    {
        var (code, _, error) = await RunAsync("chown", ["-R", "65534:65534", path], new Dictionary<string, string?>());
        Assert.True(code == 0, "chown: " + error);
    }
}
