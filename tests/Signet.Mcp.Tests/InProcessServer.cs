using System.IO.Pipelines;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Signet.Mcp.Tests;

/// <summary>A real C# MCP server on the other end of two in-memory pipes, with a few tools.</summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private readonly Pipe _toServer = new();
    private readonly Pipe _toClient = new();
    private readonly McpServer _server;
    private readonly Task _run;
    private int _invocations;

    private InProcessServer(Action<McpServerOptions>? configure)
    {
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "in-process", Version = "1.0.0" },
            ToolCollection =
            [
                McpServerTool.Create((string message) => Count($"Echo: {message}"), new() { Name = "echo", Description = "Echoes the message." }),
                McpServerTool.Create((double a, double b) => Count((a + b).ToString(System.Globalization.CultureInfo.InvariantCulture)), new() { Name = "add" }),
                McpServerTool.Create(() => { Count(""); return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = "the tool failed" }] }; }, new() { Name = "fail" }),
                McpServerTool.Create(async (int steps, IProgress<ProgressNotificationValue> progress, CancellationToken ct) =>
                {
                    Count("");
                    for (var i = 1; i <= steps; i++)
                    {
                        progress.Report(new ProgressNotificationValue { Progress = i, Total = steps });
                        await Task.Yield();
                    }
                    return $"done {steps}";
                }, new() { Name = "steps" }),
                McpServerTool.Create(async (CancellationToken ct) =>
                {
                    Count("");
                    Blocked.TrySetResult();
                    await Task.Delay(Timeout.Infinite, ct);
                    return "never";
                }, new() { Name = "block" }),
            ],
        };
        configure?.Invoke(options);
        var transport = new StreamServerTransport(_toServer.Reader.AsStream(), _toClient.Writer.AsStream(), "in-process");
        _server = McpServer.Create(transport, options);
        _run = _server.RunAsync();
    }

    /// <summary>How many tool calls reached a tool.</summary>
    public int Invocations => Volatile.Read(ref _invocations);

    /// <summary>Completes when the <c>block</c> tool has started.</summary>
    public TaskCompletionSource Blocked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A client transport connected to this server (use once).</summary>
    public IClientTransport ClientTransport() => new StreamClientTransport(_toServer.Writer.AsStream(), _toClient.Reader.AsStream());

    public static InProcessServer Start(Action<McpServerOptions>? configure = null) => new(configure);

    private string Count(string text)
    {
        Interlocked.Increment(ref _invocations);
        return text;
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        await _server.DisposeAsync();
        await _toClient.Writer.CompleteAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>
/// Sits between the signing transport and the wire and lets a test change messages after they were signed: the
/// attacker in the middle that the server-side checks exist for.
/// </summary>
internal sealed class TamperingTransport(IClientTransport inner, Action<JsonRpcRequest> tamper) : IClientTransport
{
    public string Name => inner.Name;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        new Session(await inner.ConnectAsync(cancellationToken), tamper);

    private sealed class Session(ITransport inner, Action<JsonRpcRequest> tamper) : ITransport
    {
        public string? SessionId => inner.SessionId;

        public System.Threading.Channels.ChannelReader<JsonRpcMessage> MessageReader => inner.MessageReader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            if (message is JsonRpcRequest { Method: RequestMethods.ToolsCall } request)
            {
                tamper(request);
            }
            return inner.SendMessageAsync(message, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

internal static class ClientExtensions
{
    public static string Text(this CallToolResult result) =>
        string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    public static JsonObject ReceiptIn(this JsonRpcRequest request, string key = SignetMetaKeys.Receipt) =>
        request.Params!["_meta"]![key]!.AsObject();

    public static McpClientOptions Protocol(string? version) => new()
    {
        ClientInfo = new Implementation { Name = "signet-tests", Version = "1.0.0" },
        ProtocolVersion = version,
    };
}
