using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Mcp.Server;

/// <summary>MCP server filters (<c>CallToolFilters</c>) that verify agents' receipts and co-sign responses.</summary>
public static partial class SignetServerFilters
{
    /// <summary>The key under which the verification filter leaves its <see cref="RequestVerification"/> in the request's <c>Items</c>.</summary>
    public const string VerificationItemKey = "Signet.RequestVerification";

    private static readonly JsonTypeInfo<CallToolResult> ResultType =
        (JsonTypeInfo<CallToolResult>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult));

    /// <summary>
    /// A filter that checks each call's receipt with <paramref name="verifier"/> before the tool runs. In
    /// <see cref="RequestVerificationMode.Require"/> mode a missing or invalid receipt gets a tool error
    /// (<c>isError: true</c>) saying why, and the tool does not run.
    /// </summary>
    public static McpRequestFilter<CallToolRequestParams, CallToolResult> VerifyReceipts(
        RequestVerifier verifier, RequestVerificationMode mode = RequestVerificationMode.Require, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        var logger = (ILogger?)loggerFactory?.CreateLogger(typeof(SignetServerFilters)) ?? NullLogger.Instance;
        return VerifyReceipts(_ => (verifier, logger), mode);
    }

    /// <summary>
    /// A filter like <see cref="VerifyReceipts(RequestVerifier, RequestVerificationMode, ILoggerFactory?)"/> that
    /// resolves the <see cref="RequestVerifier"/> (and the logger factory, when there is one) from the request's
    /// service container, once, on its first call.
    /// </summary>
    /// <remarks>The server must have a container (hosted with <c>AddMcpServer()</c>) holding a <see cref="RequestVerifier"/>.</remarks>
    public static McpRequestFilter<CallToolRequestParams, CallToolResult> VerifyReceiptsFromServices(RequestVerificationMode mode = RequestVerificationMode.Require) =>
        VerifyReceipts(Resolver(services => services.GetRequiredService<RequestVerifier>(), nameof(RequestVerifier)), mode);

    private static McpRequestFilter<CallToolRequestParams, CallToolResult> VerifyReceipts(
        Func<IServiceProvider?, (RequestVerifier Verifier, ILogger Logger)> resolve, RequestVerificationMode mode) =>
        next => async (context, cancellationToken) =>
        {
            var (verifier, logger) = resolve(context.Services);
            var verification = await verifier.VerifyAsync(RawParams(context), cancellationToken).ConfigureAwait(false);
            context.Items[VerificationItemKey] = verification;
            if (verification.IsValid)
            {
                LogAccepted(logger, context.Params?.Name, verification.Receipt!.Id, verification.IsTrusted);
                return await next(context, cancellationToken).ConfigureAwait(false);
            }
            if (mode == RequestVerificationMode.Observe)
            {
                LogObservedInvalid(logger, context.Params?.Name, verification.Rejection, verification.Reason);
                return await next(context, cancellationToken).ConfigureAwait(false);
            }
            LogRejected(logger, context.Params?.Name, verification.Rejection, verification.Reason);
            return new CallToolResult
            {
                IsError = true,
                Content = [new TextContentBlock { Text = $"Signet rejected this call ({verification.Rejection}): {verification.Reason?.TrimEnd('.')}." }],
            };
        };

    /// <summary>
    /// A filter that co-signs each response to a call whose receipt the verification filter accepted: a v3 receipt
    /// (the server's key, the agent's receipt, the response hash and the outcome) in <c>result._meta</c>, under
    /// <c>dev.signet/cosignature</c>, or <c>_signet_bilateral</c> when the request used the reference's <c>_signet</c>
    /// key (both when it used both). Compatible with the reference Signet's client check (FORMAT.md §3.4).
    /// </summary>
    /// <param name="serverSigner">Signs as the server; its name goes into <c>server.name</c>.</param>
    /// <param name="coSignUntrusted">Also co-sign receipts that were accepted with integrity only (from untrusted keys).</param>
    /// <param name="loggerFactory">Logging.</param>
    /// <remarks>Add <see cref="VerifyReceipts(RequestVerifier, RequestVerificationMode, ILoggerFactory?)"/> too: calls it did not accept are not co-signed.</remarks>
    public static McpRequestFilter<CallToolRequestParams, CallToolResult> CoSignResponses(
        ReceiptSigner serverSigner, bool coSignUntrusted = false, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(serverSigner);
        var logger = (ILogger?)loggerFactory?.CreateLogger(typeof(SignetServerFilters)) ?? NullLogger.Instance;
        var options = new SignetCoSigningOptions { Signer = serverSigner, CoSignUntrusted = coSignUntrusted };
        return CoSignResponses(_ => (options, logger));
    }

    /// <summary>
    /// A filter like <see cref="CoSignResponses(ReceiptSigner, bool, ILoggerFactory?)"/> whose signer and settings are
    /// the <see cref="SignetCoSigningOptions"/> of the request's service container, resolved once, on its first call.
    /// </summary>
    public static McpRequestFilter<CallToolRequestParams, CallToolResult> CoSignResponsesFromServices() =>
        CoSignResponses(Resolver(services => services.GetRequiredService<IOptions<SignetCoSigningOptions>>().Value, nameof(SignetCoSigningOptions)));

    private static McpRequestFilter<CallToolRequestParams, CallToolResult> CoSignResponses(
        Func<IServiceProvider?, (SignetCoSigningOptions Options, ILogger Logger)> resolve) =>
        next => async (context, cancellationToken) =>
        {
            var result = await next(context, cancellationToken).ConfigureAwait(false);
            var (options, logger) = resolve(context.Services);
            if (!context.Items.TryGetValue(VerificationItemKey, out var item) || item is not RequestVerification { IsValid: true } verification
                || (!verification.IsTrusted && !options.CoSignUntrusted))
            {
                return result;
            }
            // Hash what the client will hash: the result without co-signature and protocol _meta keys.
            var content = ToolCallOutcome.WithoutCoSignature(JsonSerializer.SerializeToNode(result, ResultType), out _, out _);
            var coSignature = options.Signer!.CoSign(verification.Receipt!, content, ToolCallOutcome.Infer(content, null));
            result.Meta ??= [];
            foreach (var key in verification.MetaKeys)
            {
                result.Meta[key == SignetMetaKeys.ReferenceReceipt ? SignetMetaKeys.ReferenceCoSignature : SignetMetaKeys.CoSignature] = coSignature.Json.DeepClone();
            }
            LogCoSigned(logger, context.Params?.Name, coSignature.Id, verification.Receipt!.Id);
            return result;
        };

    /// <summary>
    /// Resolves what a filter needs from the first request's container and keeps it: the filter belongs to one
    /// server, whose container does not change.
    /// </summary>
    private static Func<IServiceProvider?, (T Value, ILogger Logger)> Resolver<T>(Func<IServiceProvider, T> get, string what)
    {
        // A reference, published whole: concurrent first calls may both resolve (the same singletons), never see half.
        Tuple<T, ILogger>? resolved = null;
        return services =>
        {
            if (Volatile.Read(ref resolved) is { } done)
            {
                return (done.Item1, done.Item2);
            }
            if (services is null)
            {
                throw new InvalidOperationException(
                    $"The Signet filter resolves its {what} from the server's service container, and this server has none: host it with AddMcpServer(), or pass the {what} to the filter.");
            }
            var logger = (ILogger?)services.GetService<ILoggerFactory>()?.CreateLogger(typeof(SignetServerFilters)) ?? NullLogger.Instance;
            var value = Tuple.Create(get(services), logger);
            Volatile.Write(ref resolved, value);
            return (value.Item1, value.Item2);
        };
    }

    /// <summary>The call's params as received (exact argument lexemes), or the typed params re-serialized.</summary>
    private static JsonObject? RawParams(RequestContext<CallToolRequestParams> context)
    {
        if (context.JsonRpcRequest.Params is JsonObject raw)
        {
            return raw;
        }
        return context.Params is null
            ? null
            : JsonSerializer.SerializeToNode(context.Params, (JsonTypeInfo<CallToolRequestParams>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolRequestParams))) as JsonObject;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Accepted the receipt of a call to {Tool}: {ReceiptId} (trusted key: {Trusted})")]
    private static partial void LogAccepted(ILogger logger, string? tool, string receiptId, bool trusted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected a call to {Tool}: {Rejection}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string? tool, RequestRejection rejection, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A call to {Tool} has no valid receipt ({Rejection}: {Reason}); running it anyway (observe mode)")]
    private static partial void LogObservedInvalid(ILogger logger, string? tool, RequestRejection rejection, string? reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Co-signed the response to a call to {Tool}: {ReceiptId} over agent receipt {AgentReceiptId}")]
    private static partial void LogCoSigned(ILogger logger, string? tool, string receiptId, string agentReceiptId);
}
