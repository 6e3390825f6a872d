using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Bridge.Hosting;
using Signet.Mcp;
using Signet.Cli.Proxy;

namespace Signet.Cli.Proxy;

/// <summary>
/// <c>signet proxy</c>'s process host: launches the real tool server as a child and runs the <see cref="LineProxy"/>
/// engine between it and the client on stdio, signing every <c>tools/call</c> through an <see cref="IToolCallRecorder"/>
/// and passing everything else through byte for byte.
/// </summary>
internal static class StdioProxy
{
    /// <summary>
    /// Runs the proxy until the client closes its input, the child exits, or a forwarded signal ends it; the child is then
    /// stopped (stdin closed, a grace period, then its process tree and any descendant it left are killed). Returns the
    /// child's exit code. Throws <see cref="SignetException"/> when the child cannot be started.
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

        await using var child = ChildProcess.Start(options.Child, logger);
        // Both inputs are read on threads of their own, and our stdout is written on the calling thread: a line passing
        // through then costs no hand-over between threads (see ReaderThreadStream).
        using var serverOutput = new ReaderThreadStream(child.Output, "Signet server reader");
        using var clientReader = new ReaderThreadStream(clientInput, "Signet client reader");
        using var engine = new LineProxy(recorder, new SynchronousWriteStream(clientOutput), child.Input, options.Traffic, logger);
        using var stopUpstream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopDownstream = new CancellationTokenSource();
        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);

        var downstream = engine.RunDownstreamAsync(serverOutput, stopDownstream.Token);
        var upstream = engine.RunUpstreamAsync(clientReader, stopUpstream.Token);

        // The client is done (EOF), the caller cancelled, one side's pipe broke, or a signal was passed on to the child:
        // either way the server is asked to exit the MCP way (stdin closed), which is harmless when it already has.
        await Task.WhenAny(upstream, downstream, child.Signalled, cancelled).ConfigureAwait(false);
        var exitCode = await child.StopAsync().ConfigureAwait(false);

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
