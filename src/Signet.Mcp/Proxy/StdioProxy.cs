using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Signet.Mcp.Proxy;

/// <summary>
/// <c>signet proxy</c>'s engine: launches the real tool server as a child and stands between it and the client on
/// stdio, signing every <c>tools/call</c> through an <see cref="IToolCallRecorder"/> and passing everything else
/// through byte for byte.
/// </summary>
public static class StdioProxy
{
    private const int SigInt = 2;
    private const int SigTerm = 15;

    /// <summary>
    /// Runs the proxy until the client closes its input (the child is then asked to exit: stdin closed, a grace period,
    /// then its process tree is killed), the child exits, or a forwarded signal ends it. Returns the child's exit code.
    /// Throws <see cref="SignetException"/> when the child cannot be started.
    /// </summary>
    /// <remarks>Calls still waiting for a response when the child is gone get a JSON-RPC error naming the cause.</remarks>
    public static async Task<int> RunAsync(
        StdioProxyOptions options,
        IToolCallRecorder recorder,
        Stream clientInput,
        Stream clientOutput,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(clientInput);
        ArgumentNullException.ThrowIfNull(clientOutput);
        logger ??= NullLogger.Instance;

        using var child = ChildProcess.Start(options);
        ProxyLog.ChildStarted(logger, child.DisplayName, child.Id);
        // Both inputs are read on threads of their own, and our stdout is written on the calling thread: a line passing
        // through then costs no hand-over between threads (see ReaderThreadStream).
        using var serverOutput = new ReaderThreadStream(child.Output, "Signet server reader");
        using var clientReader = new ReaderThreadStream(clientInput, "Signet client reader");
        using var engine = new LineProxy(recorder, new SynchronousWriteStream(clientOutput), child.Input, options.Traffic, logger);
        using var stopUpstream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopDownstream = new CancellationTokenSource();

        var signal = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigint = options.ForwardSignals ? Register(PosixSignal.SIGINT, SigInt, signal) : null;
        using var sigterm = options.ForwardSignals ? Register(PosixSignal.SIGTERM, SigTerm, signal) : null;
        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);

        var downstream = engine.RunDownstreamAsync(serverOutput, stopDownstream.Token);
        var upstream = engine.RunUpstreamAsync(clientReader, stopUpstream.Token);

        var first = await Task.WhenAny(upstream, downstream, signal.Task, cancelled).ConfigureAwait(false);
        if (first == signal.Task)
        {
            var number = signal.Task.Result;
            ProxyLog.SignalForwarded(logger, number == SigInt ? "SIGINT" : "SIGTERM", child.DisplayName);
            child.Signal(number);
            child.CloseInput();
        }
        else
        {
            // The client is done (EOF), the caller cancelled, or one side's pipe broke: ask the server to exit the MCP
            // way. Harmless when it has already exited.
            child.CloseInput();
        }

        if (!await child.WaitForExitAsync(options.ShutdownTimeout).ConfigureAwait(false))
        {
            ProxyLog.ChildKilled(logger, child.DisplayName, options.ShutdownTimeout);
            child.KillTree();
            await child.WaitForExitAsync(Timeout.InfiniteTimeSpan).ConfigureAwait(false);
        }
        var exitCode = child.ExitCode;
        ProxyLog.ChildExited(logger, child.DisplayName, exitCode);

        // Deliver what the server wrote before it exited. A grandchild holding the pipe open must not keep us here.
        if (await Task.WhenAny(downstream, Task.Delay(options.ShutdownTimeout, CancellationToken.None)).ConfigureAwait(false) != downstream)
        {
            stopDownstream.Cancel();
        }
        await Observe(downstream).ConfigureAwait(false);

        stopUpstream.Cancel();
        try
        {
            await engine.FailPendingAsync($"the tool server '{child.DisplayName}' exited with code {exitCode} before answering this call", CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The client is gone too; nobody is left to tell.
        }

        // Reading the client's stdin may not observe cancellation (a blocking console read); never wait on it here.
        _ = Observe(upstream);
        return exitCode;
    }

    private static PosixSignalRegistration? Register(PosixSignal signal, int number, TaskCompletionSource<int> received)
    {
        try
        {
            return PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // we end in order: the child first, then us with its exit code
                received.TrySetResult(number);
            });
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }

    private static async Task Observe(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Expected at shutdown: a pipe closed or a loop was stopped.
        }
    }
}
