using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Signet.Mcp.Proxy;

/// <summary>The tool server as a child process: redirected stdin/stdout, inherited stderr, filtered environment.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process, string displayName)
    {
        _process = process;
        DisplayName = displayName;
    }

    public string DisplayName { get; }

    public int Id => _process.Id;

    public Stream Input => _process.StandardInput.BaseStream;

    public Stream Output => _process.StandardOutput.BaseStream;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the child; a failure becomes a <see cref="SignetException"/> that names the command and what to check.</summary>
    public static ChildProcess Start(StdioProxyOptions options)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false, // the child's diagnostics go straight to our stderr
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        if (OperatingSystem.IsWindows())
        {
            // As the MCP SDK does: cmd.exe resolves npx.cmd, node.cmd and friends that CreateProcess cannot run.
            info.FileName = "cmd.exe";
            info.ArgumentList.Add("/c");
            info.ArgumentList.Add(EscapeForCmd(options.Command));
            foreach (var argument in options.Arguments)
            {
                info.ArgumentList.Add(EscapeForCmd(argument));
            }
        }
        else
        {
            info.FileName = options.Command;
            foreach (var argument in options.Arguments)
            {
                info.ArgumentList.Add(argument);
            }
        }
        if (options.WorkingDirectory is not null)
        {
            info.WorkingDirectory = options.WorkingDirectory;
        }

        ChildEnvironment.Filter(info.Environment);
        if (options.EnvironmentVariables is not null)
        {
            foreach (var (name, value) in options.EnvironmentVariables)
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
        }

        var displayName = options.Arguments.Count == 0 ? options.Command : options.Command + " " + string.Join(' ', options.Arguments);
        var process = new Process { StartInfo = info };
        try
        {
            if (!process.Start())
            {
                throw new SignetException($"could not start the tool server '{displayName}'");
            }
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new SignetException(
                $"could not start the tool server '{options.Command}': {e.Message.TrimEnd('.')}. Check that the command after '--' exists and is on PATH (or give its full path).", e);
        }
        return new ChildProcess(process, displayName);
    }

    /// <summary>Closes the child's stdin: the MCP way to ask a stdio server to exit.</summary>
    public void CloseInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Already gone: nothing left to close.
        }
    }

    /// <summary>Waits for the child to exit; false when it has not within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return _process.HasExited;
        }
    }

    /// <summary>Ends the child and everything it started.</summary>
    public void KillTree()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited on its own meanwhile.
        }
        catch (Win32Exception)
        {
            // A descendant we may not signal; the child itself is handled.
        }
    }

    /// <summary>Passes a signal (SIGINT 2, SIGTERM 15) on to the child; on Windows there is nothing to pass, closing stdin follows.</summary>
    public void Signal(int signalNumber)
    {
        if (!OperatingSystem.IsWindows() && !_process.HasExited)
        {
            _ = SendSignal(_process.Id, signalNumber);
        }
    }

    public void Dispose() => _process.Dispose();

    private static string EscapeForCmd(string argument)
    {
        // cmd.exe treats these as operators even inside arguments unless escaped with ^.
        var builder = new StringBuilder(argument.Length);
        foreach (var c in argument)
        {
            if (c is '&' or '^' or '>' or '<' or '|')
            {
                builder.Append('^');
            }
            builder.Append(c);
        }
        return builder.ToString();
    }

    // kill(2); blittable arguments, so a plain DllImport needs no unsafe code or marshalling stubs.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
