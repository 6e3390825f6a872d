using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Signet.Mcp;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Bridge;

/// <summary>Records a tools/call the bridge refused before it reached any recorder: the call could not be signed as it was sent.</summary>
internal interface IToolCallRejectionRecorder
{
    /// <summary>Signs and durably appends a v2 receipt of the call with outcome <c>{status: "rejected", reason}</c>. Failures propagate.</summary>
    ValueTask RecordRejectionAsync(string tool, JsonNode? arguments, string? callId, string? sessionId, string reason, CancellationToken cancellationToken);
}

/// <summary>
/// A backend's recorder as <see cref="BridgeRecording"/> makes it: the shared <see cref="ToolCallRecorder"/> engine for
/// calls that are signed, plus the receipts of calls the bridge refused (the engine has no outcome for those).
/// </summary>
internal sealed class BridgeCallRecorder(ToolCallRecorder inner, ReceiptSigner signer, IReceiptSink sink, string target)
    : IToolCallRecorder, IToolCallRejectionRecorder
{
    /// <summary>The engine that signs the calls that go out.</summary>
    public ToolCallRecorder Inner => inner;

    public ValueTask OnRequestAsync(JsonObject callParams, string callId, string? sessionId, CancellationToken cancellationToken = default) =>
        inner.OnRequestAsync(callParams, callId, sessionId, cancellationToken);

    public ValueTask OnResponseAsync(string callId, string? sessionId, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default) =>
        inner.OnResponseAsync(callId, sessionId, result, error, cancellationToken);

    public void Forget(string callId, string? sessionId) => inner.Forget(callId, sessionId);

    public async ValueTask RecordRejectionAsync(string tool, JsonNode? arguments, string? callId, string? sessionId, string reason,
        CancellationToken cancellationToken)
    {
        var action = new ReceiptAction
        {
            Tool = tool,
            Params = arguments?.DeepClone() ?? new JsonObject(),
            Target = target,
            Transport = "http",
            Session = sessionId,
            CallId = callId,
        };
        // What the client was answered is what the receipt hashes as the response; the call itself never went out.
        var answer = new JsonObject { ["code"] = ToolCallRefusedException.JsonRpcErrorCode, ["message"] = reason };
        var receipt = signer.SignCompound(action, answer, signer.TimeProvider.GetUtcNow(), new ReceiptOutcome("rejected", Reason: reason));
        await sink.AppendAsync(receipt, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// The logger factory the bridge gives its recorders. The bridge logs every refusal itself, in one line and without a
/// stack trace, so the engine's own report of a refusal (its <c>LogRefused</c> event) is not repeated.
/// </summary>
internal sealed class BridgeReportsRefusals(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Filter(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The factory belongs to the caller.
    }

    private sealed class Filter(ILogger logger) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name != "LogRefused")
            {
                logger.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
