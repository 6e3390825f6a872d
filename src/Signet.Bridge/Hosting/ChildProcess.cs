using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Signet.Bridge.Hosting;

/// <summary>
/// A tool server as a child process, for the stdio proxy and the bridge's stdio sessions alike: stdin and stdout
/// redirected (the protocol), stderr inherited or logged, the environment filtered of Signet's secrets, signals passed
/// on when the owner asks, and one way to end it: <see cref="StopAsync"/> closes stdin, waits the shutdown timeout, then
/// kills the whole process tree, including descendants that had already been re-parented away from it.
/// </summary>
/// <remarks>The owner disposes it; disposal stops the child first. <see cref="WriteLineAsync"/> may be called concurrently.</remarks>
internal sealed class ChildProcess : IAsyncDisposable
{
    /// <summary>What <see cref="StopAsync"/> returns when the child could not be ended.</summary>
    public const int NotExited = -1;

    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(10);

    private readonly Process process;
    private readonly ChildProcessOptions options;
    private readonly ILogger logger;
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private readonly object gate = new();
    private readonly TaskCompletionSource<PosixSignal> signalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PosixSignalRegistration?[] signalRegistrations;
    private readonly Task stderrLoop;
    private volatile Task readLoop = Task.CompletedTask;
    private Task<int>? stopping;
    private int disposed;

    private ChildProcess(Process process, ChildProcessOptions options, string displayName, ILogger logger)
    {
        this.process = process;
        this.options = options;
        this.logger = logger;
        DisplayName = displayName;
        Id = process.Id;
        Input = process.StandardInput.BaseStream;
        Output = process.StandardOutput.BaseStream;
        stderrLoop = options.StandardError == ChildStandardError.Log ? ReadStandardErrorAsync(process.StandardError) : Task.CompletedTask;
        signalRegistrations = options.ForwardSignals
            ? [Register(PosixSignal.SIGINT), Register(PosixSignal.SIGTERM), Register(PosixSignal.SIGHUP)]
            : [];
    }

    /// <summary>The command line, for logs.</summary>
    public string DisplayName { get; }

    /// <summary>The child's process id.</summary>
    public int Id { get; }

    /// <summary>The child's stdin.</summary>
    public Stream Input { get; }

    /// <summary>The child's stdout.</summary>
    public Stream Output { get; }

    /// <summary>True once the child has exited.</summary>
    public bool HasExited
    {
        get
        {
            try
            {
                return process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>The child's exit code (128 + the signal number when a signal ended it); only once it has exited.</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>Completes with the first signal passed on to the child (never, unless <see cref="ChildProcessOptions.ForwardSignals"/>).</summary>
    public Task<PosixSignal> Signalled => signalled.Task;

    /// <summary>
    /// Starts the child. A command that cannot be started becomes a <see cref="SignetException"/> naming the command and
    /// what to check.
    /// </summary>
    public static ChildProcess Start(ChildProcessOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = options.StandardError == ChildStandardError.Log,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        if (options.StandardError == ChildStandardError.Log)
        {
            info.StandardErrorEncoding = new UTF8Encoding(false);
        }
        if (OperatingSystem.IsWindows())
        {
            // As the MCP SDK does: cmd.exe resolves npx.cmd, node.cmd and friends that CreateProcess cannot run. The
            // line is escaped by us and passed verbatim (Arguments, not ArgumentList, which would quote it again).
            info.FileName = "cmd.exe";
            info.Arguments = WindowsCommandLine.For(options.Command, options.Arguments);
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
        foreach (var (name, value) in options.EnvironmentVariables ?? new Dictionary<string, string?>())
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

        var displayName = options.Arguments.Count == 0 ? options.Command : options.Command + " " + string.Join(' ', options.Arguments);
        var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new SignetException($"could not start {options.Label} '{options.Command}': {e.Message.TrimEnd('.')}. {Hint(options)}", e);
        }
        ChildProcessLog.Started(logger, displayName, process.Id);
        return new ChildProcess(process, options, displayName, logger);
    }

    /// <summary>Writes one message line and a newline; the bytes must not contain one.</summary>
    public async ValueTask WriteLineAsync(ReadOnlyMemory<byte> line, CancellationToken cancellationToken)
    {
        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Input.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            Input.WriteByte((byte)'\n');
            await Input.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new SignetException($"{options.Label} is not reading its input (it may have exited)", e);
        }
        catch (ObjectDisposedException e)
        {
            throw new SignetException($"{options.Label} has stopped", e);
        }
        finally
        {
            writeLock.Release();
        }
    }

    /// <summary>
    /// Reads the child's stdout as newline-delimited messages (empty lines skipped) until it ends, and returns why it
    /// ended. A line longer than <paramref name="maxLineBytes"/> ends the reading. Call it once, or use <see cref="Output"/>.
    /// </summary>
    public Task<string> ReadLinesAsync(Func<ReadOnlyMemory<byte>, ValueTask> onLine, int maxLineBytes)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        var loop = ReadLinesLoopAsync(onLine, maxLineBytes);
        readLoop = loop;
        return loop;
    }

    /// <summary>Closes the child's stdin: the MCP way to ask a stdio server to exit.</summary>
    public void CloseInput()
    {
        try
        {
            Input.Close();
        }
        catch (IOException)
        {
            // Broken pipe: the child already exited.
        }
    }

    /// <summary>Waits for the child to exit; false when it has not within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return HasExited;
        }
    }

    /// <summary>
    /// Ends the child and returns its exit code: closes stdin, waits up to the shutdown timeout, then kills the process
    /// tree; descendants found before stdin was closed are killed too, should the child have left them behind. Returns
    /// <see cref="NotExited"/> when even the kill did not end it. Calling it again returns the same task.
    /// </summary>
    public Task<int> StopAsync()
    {
        lock (gate)
        {
            return stopping ??= StopOnceAsync();
        }
    }

    /// <summary>Stops the child (see <see cref="StopAsync"/>) and releases the process.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }
        await StopAsync().ConfigureAwait(false);
        process.Dispose();
        writeLock.Dispose();
    }

    private async Task<int> StopOnceAsync()
    {
        // Taken first: a grandchild re-parented to init once its parent exits can no longer be found from the child.
        var descendants = HasExited ? [] : ProcessTree.Descendants(Id);
        CloseInput();
        if (!await WaitForExitAsync(options.ShutdownTimeout).ConfigureAwait(false))
        {
            ChildProcessLog.Killed(logger, DisplayName, options.ShutdownTimeout);
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited on its own meanwhile.
            }
            catch (Win32Exception e)
            {
                // A descendant we may not signal; the child itself is handled.
                ChildProcessLog.KillFailed(logger, options.Label, Id, e.Message);
            }
        }
        foreach (var survivor in await ProcessTree.KillSurvivorsAsync(descendants, KillWait).ConfigureAwait(false))
        {
            ChildProcessLog.KillFailed(logger, options.Label, survivor, $"it was still running {KillWait.TotalSeconds:0} s after the kill");
        }
        foreach (var registration in signalRegistrations)
        {
            registration?.Dispose();
        }
        try
        {
            // Bounded: a child we could not signal (Win32Exception above) must not hold its owner forever.
            await process.WaitForExitAsync().WaitAsync(KillWait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            ChildProcessLog.KillFailed(logger, options.Label, Id, $"it was still running {KillWait.TotalSeconds:0} s after the kill");
            return NotExited;
        }
        var exitCode = process.ExitCode;
        ChildProcessLog.Exited(logger, DisplayName, exitCode);
        try
        {
            // A descendant that kept the pipes open (and was not ours to kill) could hold the readers forever: bound it.
            await Task.WhenAll(readLoop, stderrLoop).WaitAsync(options.ShutdownTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            ChildProcessLog.KillFailed(logger, options.Label, Id, "its output pipes stayed open after it exited");
        }
        return exitCode;
    }

    private async Task<string> ReadLinesLoopAsync(Func<ReadOnlyMemory<byte>, ValueTask> onLine, int maxLineBytes)
    {
        await Task.Yield();
        var reader = PipeReader.Create(Output, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = read.Buffer;
                while (TryReadLine(ref buffer, out var line))
                {
                    if (line.Length > 0 && !(line.Length == 1 && line.FirstSpan[0] == (byte)'\r'))
                    {
                        await onLine(line.IsSingleSegment ? line.First.ToArray() : line.ToArray()).ConfigureAwait(false);
                    }
                }
                if (buffer.Length > maxLineBytes)
                {
                    return $"{options.Label} wrote a message longer than {maxLineBytes} bytes";
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    return $"{options.Label} closed its output";
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            return $"{options.Label}'s output failed: {e.Message}";
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var position = buffer.PositionOf((byte)'\n');
        if (position is null)
        {
            line = default;
            return false;
        }
        line = buffer.Slice(0, position.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, position.Value));
        return true;
    }

    private async Task ReadStandardErrorAsync(StreamReader stderr)
    {
        await Task.Yield();
        try
        {
            while (await stderr.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                ChildProcessLog.StandardErrorLine(logger, options.Label, line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The child is gone; nothing more to log.
        }
    }

    private PosixSignalRegistration? Register(PosixSignal signal)
    {
        try
        {
            return PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // we end in order: the child first, then us with its exit code
                ChildProcessLog.SignalForwarded(logger, signal.ToString(), DisplayName);
                // On Windows the child shares our console and gets the event itself; closing stdin follows.
                if (!OperatingSystem.IsWindows() && !HasExited)
                {
                    _ = SendSignal(Id, SignalNumber(signal));
                }
                signalled.TrySetResult(signal);
            });
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }

    // The numbers are the same on Linux and macOS; PosixSignal's own values are abstract.
    private static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        _ => 15,
    };

    private static string Hint(ChildProcessOptions options) =>
        $"Check that {options.CommandSource} exists and is on PATH (or give its full path)"
        + (options.WorkingDirectory is null ? "." : $", and that the working directory '{options.WorkingDirectory}' exists.");

    // kill(2); blittable arguments, so a plain DllImport needs no unsafe code or marshalling stubs.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
