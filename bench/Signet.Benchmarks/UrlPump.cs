using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Signet.Mcp;
using Signet.Mcp.Client;

namespace Signet.Benchmarks;

/// <summary>
/// The alternative to <c>HttpBackendProxy</c> that was measured and not adopted (docs/proxy.md, "Why --url is not an
/// SDK pump"): the SDK's <see cref="StreamServerTransport"/> over stdio in front, <see cref="SigningTransport"/> over
/// the SDK's <see cref="HttpClientTransport"/> behind, and a pump between their message readers.
/// </summary>
internal static partial class UrlPump
{
    public static async Task<int> RunAsync(Uri endpoint, IReadOnlyDictionary<string, string>? headers, SignetOptions signing,
        Stream clientInput, Stream clientOutput, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger("Signet.Proxy");
        var http = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = endpoint,
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = headers?.ToDictionary(h => h.Key, h => h.Value),
            Name = "signet-proxy",
        }, loggerFactory);
        await using var signingTransport = new SigningTransport(http, signing);
        var back = await signingTransport.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using (back.ConfigureAwait(false))
        {
            var front = new StreamServerTransport(clientInput, clientOutput, "signet-proxy", loggerFactory);
            await using (front.ConfigureAwait(false))
            {
                var session = new Session(endpoint, front, back, logger);
                var upstream = session.UpstreamAsync(cancellationToken);
                var downstream = session.DownstreamAsync(cancellationToken);
                var first = await Task.WhenAny(upstream, downstream).ConfigureAwait(false);
                await session.FailPendingAsync(first == upstream
                    ? "the client closed its input before the server answered this call"
                    : $"the MCP server at {endpoint} ended the session before answering this call").ConfigureAwait(false);
                return first == upstream ? 0 : 1;
            }
        }
    }

    private sealed class Session(Uri endpoint, ITransport front, ITransport back, ILogger logger)
    {
        // Requests sent and not answered yet: what is answered with an error when the session ends.
        private readonly ConcurrentDictionary<RequestId, byte> _pending = new();
        private readonly ConcurrentDictionary<Task, byte> _sends = new();

        public async Task UpstreamAsync(CancellationToken cancellationToken)
        {
            await foreach (var message in front.MessageReader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (message is JsonRpcRequest request)
                {
                    // The SDK's send of a request lasts until its answer arrives on the POST's stream, so it is not
                    // awaited: a long tool call must not hold back a cancellation or the answer to a server request.
                    _pending.TryAdd(request.Id, 0);
                    Track(SendRequestAsync(request, cancellationToken));
                }
                else
                {
                    await SendAsync(message, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        public async Task DownstreamAsync(CancellationToken cancellationToken)
        {
            await foreach (var message in back.MessageReader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (message is JsonRpcResponse or JsonRpcError)
                {
                    _pending.TryRemove(((JsonRpcMessageWithId)message).Id, out _);
                }
                await ToClientAsync(message).ConfigureAwait(false);
            }
        }

        public async Task FailPendingAsync(string cause)
        {
            foreach (var id in _pending.Keys)
            {
                if (_pending.TryRemove(id, out _))
                {
                    await ToClientAsync(Error(id, "signet: " + cause)).ConfigureAwait(false);
                }
            }
        }

        private void Track(Task send)
        {
            _sends.TryAdd(send, 0);
            _ = send.ContinueWith(static (t, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _),
                _sends, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        private async Task SendRequestAsync(JsonRpcRequest request, CancellationToken cancellationToken)
        {
            try
            {
                await back.SendMessageAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (McpProtocolException e) when ((int)e.ErrorCode == ToolCallRefusedException.JsonRpcErrorCode)
            {
                // SigningTransport refused the call (it logged why); nothing was sent.
                if (_pending.TryRemove(request.Id, out _))
                {
                    await ToClientAsync(Error(request.Id, e.Message)).ConfigureAwait(false);
                }
            }
            catch (McpException e) when (e is not McpProtocolException && e.Message.Contains("without a reply", StringComparison.Ordinal))
            {
                // The server answered under another id (2^53+1 as 2^53); the answer went through the reader.
                LogAnsweredUnderAnotherId(logger, endpoint, e.Message);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                LogSendFailed(logger, endpoint, e.Message);
                if (_pending.TryRemove(request.Id, out _))
                {
                    await ToClientAsync(Error(request.Id, $"signet: the MCP server at {endpoint} could not be reached: {e.Message}")).ConfigureAwait(false);
                }
            }
        }

        private async Task SendAsync(JsonRpcMessage message, CancellationToken cancellationToken)
        {
            try
            {
                await back.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One message never ends the session.
                LogSendFailed(logger, endpoint, e.Message);
            }
        }

        private async Task ToClientAsync(JsonRpcMessage message)
        {
            try
            {
                await front.SendMessageAsync(message, CancellationToken.None).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The client is gone.
            }
        }

        private static JsonRpcError Error(RequestId id, string message) => new()
        {
            Id = id,
            Error = new JsonRpcErrorDetail { Code = ToolCallRefusedException.JsonRpcErrorCode, Message = message },
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "the MCP server at {Endpoint} answered a request under another id: {Reason}")]
    private static partial void LogAnsweredUnderAnotherId(ILogger logger, Uri endpoint, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "could not send a message to {Endpoint}: {Reason}")]
    private static partial void LogSendFailed(ILogger logger, Uri endpoint, string reason);
}
