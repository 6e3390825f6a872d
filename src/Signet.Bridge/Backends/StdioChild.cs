using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Signet.Mcp.Proxy;

namespace Signet.Bridge.Backends;

/// <summary>
/// One stdio MCP server process: newline-delimited JSON-RPC on stdin/stdout, stderr lines to the log at Debug.
/// Disposal closes stdin, waits briefly, then kills the whole process tree, so no child outlives its session.
/// </summary>
internal sealed class StdioChild : IAsyncDisposable
{
    private readonly Process process;
    private readonly Stream stdin;
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private readonly TimeSpan shutdownTimeout;
    private readonly ILogger logger;
    private readonly string name;
    private readonly Task stdoutLoop;
    private readonly Task stderrLoop;
    private int disposed;

    private StdioChild(Process process, BridgeBackendOptions backend, Func<ReadOnlyMemory<byte>, ValueTask> onLine,
        Action<string> onExit, int maxLine, TimeSpan shutdownTimeout, ILogger logger)
    {
        this.process = process;
        this.shutdownTimeout = shutdownTimeout;
        this.logger = logger;
        name = backend.Name;
        stdin = process.StandardInput.BaseStream;
        stdoutLoop = ReadStdoutAsync(process.StandardOutput.BaseStream, onLine, onExit, maxLine);
        stderrLoop = ReadStderrAsync(process.StandardError);
    }

    /// <summary>The child's process id.</summary>
    public int ProcessId => process.Id;

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

    /// <summary>Starts the child. <c>SIGNET_*</c> variables (secrets) are not passed on, except <c>SIGNET_HOME</c>.</summary>
    public static StdioChild Start(BridgeBackendOptions backend, Func<ReadOnlyMemory<byte>, ValueTask> onLine, Action<string> onExit,
        BridgeLimits limits, ILogger logger)
    {
        var info = new ProcessStartInfo(backend.Command!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = backend.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in backend.Args)
        {
            info.ArgumentList.Add(arg);
        }
        ChildEnvironment.Filter(info.Environment);
        foreach (var (key, value) in backend.Env)
        {
            info.Environment[key] = value;
        }
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new SignetException($"backend '{backend.Name}': the command did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SignetException($"backend '{backend.Name}': cannot start '{backend.Command}': {e.Message}", e);
        }
        return new StdioChild(process, backend, onLine, onExit, limits.MaxBackendMessageBytes, limits.ChildShutdownTimeout, logger);
    }

    /// <summary>Writes one message line (the bytes must not contain a newline).</summary>
    public async ValueTask WriteLineAsync(ReadOnlyMemory<byte> line, CancellationToken cancellationToken)
    {
        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await stdin.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            stdin.WriteByte((byte)'\n');
            await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new SignetException($"backend '{name}' is not reading its input (it may have exited)", e);
        }
        catch (ObjectDisposedException e)
        {
            throw new SignetException($"backend '{name}' has stopped", e);
        }
        finally
        {
            writeLock.Release();
        }
    }

    private async Task ReadStdoutAsync(Stream stdout, Func<ReadOnlyMemory<byte>, ValueTask> onLine, Action<string> onExit, int maxLine)
    {
        await Task.Yield();
        var reader = PipeReader.Create(stdout, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        var reason = "the backend closed its output";
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
                if (buffer.Length > maxLine)
                {
                    reason = $"the backend wrote a message longer than {maxLine} bytes";
                    break;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            reason = "the backend's output failed: " + e.Message;
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
        onExit(reason);
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

    private async Task ReadStderrAsync(StreamReader stderr)
    {
        await Task.Yield();
        try
        {
            while (await stderr.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                BridgeLog.BackendStderr(logger, name, line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The child is gone; nothing more to log.
        }
    }

    /// <summary>Closes stdin, waits up to the shutdown timeout, then kills the process tree.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }
        var descendants = ProcessTree.Descendants(process.Id);
        try
        {
            stdin.Close();
        }
        catch (IOException)
        {
            // Broken pipe: the child already exited.
        }
        using (var wait = new CancellationTokenSource(shutdownTimeout))
        {
            try
            {
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Still running after the grace period; killed below.
            }
        }
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            BridgeLog.KillFailed(logger, name, process.Id, e.Message);
        }
        ProcessTree.KillSurvivors(descendants);
        try
        {
            // A grandchild that kept the pipes open could hold the readers forever; bound the wait.
            await process.WaitForExitAsync().WaitAsync(shutdownTimeout).ConfigureAwait(false);
            await Task.WhenAll(stdoutLoop, stderrLoop).WaitAsync(shutdownTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            BridgeLog.KillFailed(logger, name, process.Id, "its output pipes stayed open after the kill");
        }
        process.Dispose();
        writeLock.Dispose();
    }
}
