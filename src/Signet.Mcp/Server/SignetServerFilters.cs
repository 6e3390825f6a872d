using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Mcp.Server;

/// <summary>What the verification filter does with a call whose receipt is missing or invalid.</summary>
public enum RequestVerificationMode
{
    /// <summary>Reject it: the tool does not run and the client gets a tool error naming the reason.</summary>
    Require,

    /// <summary>Log it and let the tool run.</summary>
    Observe,
}

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
        return next => async (context, cancellationToken) =>
        {
            var verification = verifier.Verify(RawParams(context));
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
    }

    /// <summary>
    /// A filter that co-signs each response to a call whose receipt the verification filter accepted: a v3 receipt
    /// (the server's key, the agent's receipt, the response hash and the outcome) in <c>result._meta</c>, under
    /// <c>dev.signet/cosignature</c>, or <c>_signet_bilateral</c> when the request used the reference's <c>_signet</c>
    /// key (both when it used both). Compatible with the reference Signet's client check (FORMAT.md §3.4).
    /// </summary>
    /// <param name="serverSigner">Signs as the server; its name goes into <c>server.name</c>.</param>
    /// <param name="coSignUntrusted">Also co-sign receipts that were accepted with integrity only (from untrusted keys).</param>
    /// <param name="loggerFactory">Logging.</param>
    /// <remarks>Add <see cref="VerifyReceipts"/> too: calls it did not accept are not co-signed.</remarks>
    public static McpRequestFilter<CallToolRequestParams, CallToolResult> CoSignResponses(
        ReceiptSigner serverSigner, bool coSignUntrusted = false, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(serverSigner);
        var logger = (ILogger?)loggerFactory?.CreateLogger(typeof(SignetServerFilters)) ?? NullLogger.Instance;
        return next => async (context, cancellationToken) =>
        {
            var result = await next(context, cancellationToken).ConfigureAwait(false);
            if (!context.Items.TryGetValue(VerificationItemKey, out var item) || item is not RequestVerification { IsValid: true } verification
                || (!verification.IsTrusted && !coSignUntrusted))
            {
                return result;
            }
            // Hash what the client will hash: the result without co-signature and protocol _meta keys.
            var content = ToolCallOutcome.WithoutCoSignature(JsonSerializer.SerializeToNode(result, ResultType), out _, out _);
            var coSignature = serverSigner.CoSign(verification.Receipt!, content, ToolCallOutcome.Infer(content, null));
            result.Meta ??= [];
            foreach (var key in verification.MetaKeys)
            {
                result.Meta[key == SignetMetaKeys.ReferenceReceipt ? SignetMetaKeys.ReferenceCoSignature : SignetMetaKeys.CoSignature] = coSignature.Json.DeepClone();
            }
            LogCoSigned(logger, context.Params?.Name, coSignature.Id, verification.Receipt!.Id);
            return result;
        };
    }

    /// <summary>Adds <see cref="VerifyReceipts"/> to the server's tools/call filters.</summary>
    public static IMcpServerBuilder WithSignetReceiptVerification(this IMcpServerBuilder builder, RequestVerifier verifier,
        RequestVerificationMode mode = RequestVerificationMode.Require, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var filter = VerifyReceipts(verifier, mode, loggerFactory);
        return builder.WithRequestFilters(filters => filters.AddCallToolFilter(filter));
    }

    /// <summary>Adds <see cref="CoSignResponses"/> to the server's tools/call filters.</summary>
    public static IMcpServerBuilder WithSignetCoSigning(this IMcpServerBuilder builder, ReceiptSigner serverSigner,
        bool coSignUntrusted = false, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var filter = CoSignResponses(serverSigner, coSignUntrusted, loggerFactory);
        return builder.WithRequestFilters(filters => filters.AddCallToolFilter(filter));
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
