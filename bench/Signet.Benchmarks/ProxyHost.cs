using System.Text.Json.Nodes;
using Signet.Cli.Proxy;
using Signet.Mcp;

namespace Signet.Benchmarks;

/// <summary>
/// The stdio proxy's host (the CLI's, without the command) with a recorder that records nothing: the floor of what the
/// process hop and the line pump cost, measured apart from signing. Only for the benchmark; the product always signs.
/// </summary>
internal static class ProxyHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        var split = Array.IndexOf(args, "--");
        if (split < 0 || split == args.Length - 1)
        {
            Console.Error.WriteLine("usage: Signet.Benchmarks --harness proxy-host -- COMMAND [ARGS...]");
            return 2;
        }
        var options = new StdioProxyOptions { Command = args[split + 1], Arguments = args[(split + 2)..], ForwardSignals = true };
        return await StdioProxy.RunAsync(options, new NothingRecorder(), Console.OpenStandardInput(), Console.OpenStandardOutput());
    }

    private sealed class NothingRecorder : IToolCallRecorder
    {
        public ValueTask OnRequestAsync(JsonObject callParams, string callId, string? sessionId, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask OnResponseAsync(string callId, string? sessionId, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public void Forget(string callId, string? sessionId)
        {
        }
    }
}
