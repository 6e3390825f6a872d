using System.Diagnostics;
using System.Text;

namespace Signet.Cli.Tests.Commands;

/// <summary>The built <c>signet</c> executable as a real child process, with its stdio in the test's hands.</summary>
internal sealed class SignetProcess : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SignetProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _stderrClosed.TrySetResult();
                return;
            }
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>The apphost built next to the tests (the Signet.Cli project reference puts it there).</summary>
    public static string Executable { get; } = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "signet.exe" : "signet");

    public int Id => _process.Id;

    public Stream Input => _process.StandardInput.BaseStream;

    public StreamReader Output => _process.StandardOutput;

    public string Error
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static SignetProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment) =>
        StartWith([], args, environment);

    /// <summary>Starts signet through a launcher that execs it in place (<c>setpriv --reuid=…</c>), so the pid is signet's.</summary>
    public static SignetProcess StartWith(IReadOnlyList<string> launcher, IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment)
    {
        var info = new ProcessStartInfo(launcher.Count > 0 ? launcher[0] : Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        foreach (var arg in launcher.Count > 0 ? [.. launcher.Skip(1), Executable, .. args] : args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("SIGNET_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(name);
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        return new SignetProcess(Process.Start(info)!);
    }

    public async Task SendAsync(string text)
    {
        await Input.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask().WaitAsync(Timeout);
        await Input.FlushAsync().WaitAsync(Timeout);
    }

    public async Task<string> ReadLineAsync() =>
        await Output.ReadLineAsync().WaitAsync(Timeout) ?? throw new InvalidOperationException("signet closed its stdout; stderr: " + Error);

    public async Task<string> ReadToEndAsync() => await Output.ReadToEndAsync().WaitAsync(Timeout);

    public async Task<int> CloseInputAndWaitAsync()
    {
        _process.StandardInput.Close();
        return await WaitAsync();
    }

    public async Task<int> WaitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Timeout);
        await _stderrClosed.Task.WaitAsync(Timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(Timeout);
        }
        _process.Dispose();
    }
}
