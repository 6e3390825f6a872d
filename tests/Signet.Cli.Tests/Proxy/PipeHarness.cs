using Signet.Mcp;
using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Signet.Cli.Proxy;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Cli.Tests.Proxy;

/// <summary>A <see cref="LineProxy"/> between two in-memory pipe pairs: the test plays both the client and the server.</summary>
internal sealed class PipeHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = Signet.Mcp.Tests.TestTimeout.Value;

    private readonly Pipe _clientToProxy = new();
    private readonly Pipe _proxyToServer = new();
    private readonly Pipe _serverToProxy = new();
    private readonly Pipe _proxyToClient = new();

    private readonly IToolCallRecorder _recorder;

    public PipeHarness(IToolCallRecorder recorder, LineProxyOptions? options = null, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        _recorder = recorder;
        Engine = new LineProxy(recorder, _proxyToClient.Writer.AsStream(), _proxyToServer.Writer.AsStream(), options, logger);
        Upstream = Engine.RunUpstreamAsync(_clientToProxy.Reader.AsStream());
        Downstream = Engine.RunDownstreamAsync(_serverToProxy.Reader.AsStream());
    }

    /// <summary>The recorder, when it is a <see cref="RecorderDouble"/>.</summary>
    public RecorderDouble Recorder => (RecorderDouble)_recorder;

    public LineProxy Engine { get; }

    public Task<bool> Upstream { get; }

    public Task Downstream { get; }

    public Task ClientSendsAsync(string text) => WriteAsync(_clientToProxy.Writer, Encoding.UTF8.GetBytes(text));

    public Task ClientSendsAsync(byte[] bytes) => WriteAsync(_clientToProxy.Writer, bytes);

    public Task ServerSendsAsync(string text) => WriteAsync(_serverToProxy.Writer, Encoding.UTF8.GetBytes(text));

    public Task ServerSendsAsync(byte[] bytes) => WriteAsync(_serverToProxy.Writer, bytes);

    public async Task<string> ServerReceivesLineAsync() => Encoding.UTF8.GetString(await ReadLineAsync(_proxyToServer.Reader));

    public async Task<string> ClientReceivesLineAsync() => Encoding.UTF8.GetString(await ReadLineAsync(_proxyToClient.Reader));

    public Task<byte[]> ServerReceivesBytesAsync(int count) => ReadBytesAsync(_proxyToServer.Reader, count);

    public Task<byte[]> ClientReceivesBytesAsync(int count) => ReadBytesAsync(_proxyToClient.Reader, count);

    public async Task ClientClosesAsync()
    {
        await _clientToProxy.Writer.CompleteAsync();
        Assert.True(await Upstream.WaitAsync(Timeout));
    }

    public async Task ServerClosesAsync()
    {
        await _serverToProxy.Writer.CompleteAsync();
        await Downstream.WaitAsync(Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        await _clientToProxy.Writer.CompleteAsync();
        await _serverToProxy.Writer.CompleteAsync();
        await Task.WhenAll(Upstream, Downstream).WaitAsync(Timeout);
        Engine.Dispose();
    }

    private static async Task WriteAsync(PipeWriter writer, byte[] bytes)
    {
        await writer.WriteAsync(bytes).AsTask().WaitAsync(Timeout);
    }

    private static async Task<byte[]> ReadLineAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(Timeout);
            var buffer = result.Buffer;
            var newline = buffer.PositionOf((byte)'\n');
            if (newline is { } position)
            {
                var end = buffer.GetPosition(1, position);
                var line = buffer.Slice(0, end).ToArray();
                reader.AdvanceTo(end);
                return line;
            }
            if (result.IsCompleted)
            {
                throw new InvalidOperationException("the stream ended before a complete line");
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static async Task<byte[]> ReadBytesAsync(PipeReader reader, int count)
    {
        while (true)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(Timeout);
            var buffer = result.Buffer;
            if (buffer.Length >= count)
            {
                var bytes = buffer.Slice(0, count).ToArray();
                reader.AdvanceTo(buffer.GetPosition(count));
                return bytes;
            }
            if (result.IsCompleted)
            {
                throw new InvalidOperationException($"the stream ended after {buffer.Length} of {count} bytes");
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
