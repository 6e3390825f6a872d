using System.Text.Json.Nodes;
using Signet.Cli.Proxy;
using Signet.Mcp;
using Signet.Mcp.Recording;

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

    /// <summary>Records nothing and signs nothing: the proxy's own cost, without the recorder's.</summary>
    private sealed class NothingRecorder : IToolCallRecorder
    {
        private static readonly Signet.Receipts.ReceiptSigner Signer = new(Signet.Keys.SigningKey.Generate(), "bench");
        private static readonly Signet.Receipts.Receipt Receipt = Signer.SignRequest(new Signet.Receipts.ReceiptAction { Tool = "bench", Target = "mcp://bench" });

        public SignetOptions Options { get; } = new() { Signer = Signer, Target = "mcp://bench" };

        public ValueTask<RecordedCall> RecordRequestAsync(JsonObject callParams, string callId, string? sessionId, string? parentReceiptId,
            CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new RecordedCall(callId, sessionId, "bench", Receipt, DateTimeOffset.UnixEpoch));

        public ValueTask RecordResponseAsync(RecordedCall call, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}
