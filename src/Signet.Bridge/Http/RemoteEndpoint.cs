using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Signet.Bridge.JsonRpc;
using Signet.Bridge.Sessions;
using Signet.Mcp.Recording;

namespace Signet.Bridge.Http;

/// <summary>
/// Streamable HTTP in front of a remote Streamable HTTP server: requests are forwarded as they are (headers that carry
/// MCP state included, so sessions and 2026-07-28 stateless requests both work), with each tools/call signed on the way
/// out and its answer recorded on the way back, whether it comes as JSON or in an SSE stream.
/// </summary>
internal sealed class RemoteEndpoint(BridgeLimits limits, ILogger logger, CancellationToken stopping) : IDisposable
{
    private static readonly string[] ForwardedRequestHeaders =
        ["Accept", "Mcp-Session-Id", "MCP-Protocol-Version", "Mcp-Method", "Mcp-Name", "Last-Event-ID"];

    private static readonly string[] ForwardedResponseHeaders = ["Mcp-Session-Id", "Cache-Control", "Retry-After", "Allow"];

    private readonly HttpClient http = new(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>
    /// The call lifecycle of each MCP session (by backend and <c>Mcp-Session-Id</c>), shared by its POSTs so that a
    /// <c>notifications/cancelled</c> in one POST forgets a call another POST carries; kept while a POST uses it or a call is pending.
    /// </summary>
    private readonly ConcurrentDictionary<(string Backend, string Session), SharedSession> sessions = new();

    public async Task HandleAsync(HttpContext context, BridgeBackend backend)
    {
        var request = context.Request;
        using var upstream = new HttpRequestMessage(new HttpMethod(request.Method), backend.Options.Url);
        foreach (var name in ForwardedRequestHeaders)
        {
            if (request.Headers.TryGetValue(name, out var value))
            {
                upstream.Headers.TryAddWithoutValidation(name, value.ToString());
            }
        }
        foreach (var header in request.Headers.Where(h => h.Key.StartsWith("Mcp-Param-", StringComparison.OrdinalIgnoreCase)))
        {
            upstream.Headers.TryAddWithoutValidation(header.Key, header.Value.ToString());
        }
        if (backend.Options.UrlBearerToken is { } token)
        {
            upstream.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        var sessionId = request.Headers["Mcp-Session-Id"].ToString() is { Length: > 0 } s ? s : null;
        var (tools, shared) = Acquire(backend, sessionId);
        // A POST's calls are answered in its own response: those still unanswered when it ends are let go with it.
        var forwardedHere = new List<PendingToolCall>();
        try
        {
            await ForwardAsync(context, backend, request, upstream, sessionId, tools, forwardedHere);
        }
        finally
        {
            foreach (var call in forwardedHere)
            {
                tools.TryTake(call);
            }
            Release(backend, sessionId, shared);
        }
    }

    private async Task ForwardAsync(HttpContext context, BridgeBackend backend, HttpRequest request, HttpRequestMessage upstream, string? sessionId,
        ToolCallSession tools, List<PendingToolCall> forwardedHere)
    {
        var signedIds = new HashSet<string>(StringComparer.Ordinal);
        var refusals = new List<byte[]>();
        var isBatch = false;

        if (request.Method == "POST")
        {
            if (await RequestBody.ReadAsync(context, limits.MaxRequestBodyBytes, logger) is not { } body)
            {
                return;
            }
            if (!RpcMessage.TryParseBody(body, out var messages, out isBatch, out var parseError))
            {
                StdioEndpoint.LogRefusal(logger, context, StatusCodes.Status400BadRequest, parseError!);
                await StdioEndpoint.WriteErrorAsync(context, StatusCodes.Status400BadRequest, parseError!, -32700);
                return;
            }
            if (messages.Count == 0 || messages.Any(m => m.Kind == RpcKind.Invalid && !m.IsToolCall))
            {
                await StdioEndpoint.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid Request: not a JSON-RPC 2.0 message", -32600);
                return;
            }
            foreach (var message in messages)
            {
                // A cancellation forgets the call it names, whichever POST of the session carried it.
                if (message.Method == "notifications/cancelled" && JsonNode.Parse(message.Raw) is JsonObject cancellation)
                {
                    tools.CancelIfCancellation(cancellation);
                }
            }
            if (messages.Any(m => m.IsToolCall))
            {
                var forwarded = new List<byte[]>();
                foreach (var message in messages)
                {
                    if (!message.IsToolCall)
                    {
                        forwarded.Add(message.Raw);
                        continue;
                    }
                    var call = ToolCall.Read(message);
                    if (call.Problem is null && signedIds.Contains(message.IdKey!))
                    {
                        refusals.Add(RpcMessage.Error(message.RawId, -32600,
                            "A request with this id is already in this batch (numeric ids are compared by value, as the tool server reads them)"));
                        continue;
                    }
                    var outcome = await CallSigner.SignAsync(call, tools, context.RequestAborted);
                    if (outcome.Forward is not null)
                    {
                        forwarded.Add(outcome.Forward);
                        if (tools.Forwarded(outcome.Start, message.RawId) is { } pendingCall)
                        {
                            signedIds.Add(message.IdKey!);
                            forwardedHere.Add(pendingCall);
                        }
                    }
                    else if (outcome.Refusal is { } refusal)
                    {
                        refusals.Add(refusal);
                    }
                }
                if (forwarded.Count == 0)
                {
                    // Nothing goes out: the refusals are the whole answer, and a dropped notification-form call gets 202.
                    if (refusals.Count == 0)
                    {
                        context.Response.StatusCode = StatusCodes.Status202Accepted;
                        return;
                    }
                    context.Response.StatusCode = StatusCodes.Status200OK;
                    context.Response.ContentType = "application/json";
                    await context.Response.Body.WriteAsync(Join(refusals, isBatch), context.RequestAborted);
                    return;
                }
                body = Join(forwarded, isBatch);
            }
            upstream.Content = new ByteArrayContent(body);
            upstream.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, request.Method == "GET" ? stopping : CancellationToken.None);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(upstream, HttpCompletionOption.ResponseHeadersRead, linked.Token);
        }
        catch (HttpRequestException e)
        {
            await StdioEndpoint.WriteErrorAsync(context, StatusCodes.Status502BadGateway, $"Bad Gateway: backend '{backend.Name}' is unreachable: {e.Message}");
            return;
        }
        using (response)
        {
            var contentType = response.Content.Headers.ContentType?.ToString();
            var isSse = contentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
            // Refusals inside a batch travel with the backend's answers; when it answers nothing (202), they are the answer.
            var refusalsOnly = refusals.Count > 0 && response.StatusCode == System.Net.HttpStatusCode.Accepted;
            context.Response.StatusCode = refusalsOnly ? StatusCodes.Status200OK : (int)response.StatusCode;
            foreach (var name in ForwardedResponseHeaders)
            {
                if (response.Headers.TryGetValues(name, out var values))
                {
                    context.Response.Headers[name] = string.Join(",", values);
                }
            }
            if (refusalsOnly)
            {
                context.Response.ContentType = "application/json";
            }
            else if (contentType is not null)
            {
                context.Response.ContentType = contentType;
            }
            try
            {
                await using var upstreamBody = await response.Content.ReadAsStreamAsync(linked.Token);
                if (refusalsOnly)
                {
                    await context.Response.Body.WriteAsync(Join(refusals, batch: true), linked.Token);
                }
                else if (forwardedHere.Count == 0 && refusals.Count == 0)
                {
                    await upstreamBody.CopyToAsync(context.Response.Body, linked.Token);
                }
                else if (isSse)
                {
                    foreach (var refusal in refusals)
                    {
                        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes("event: message\ndata: " + Encoding.UTF8.GetString(refusal) + "\n\n"), linked.Token);
                    }
                    await RelaySseAsync(upstreamBody, context, backend, tools, linked.Token);
                }
                else
                {
                    using var all = new MemoryStream();
                    await upstreamBody.CopyToAsync(all, linked.Token);
                    var bytes = all.ToArray();
                    bytes = await RecordJsonAsync(bytes, backend, tools, refusals, linked.Token);
                    await context.Response.Body.WriteAsync(bytes, linked.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
            {
                // The client or the backend went away.
            }
        }
    }

    private (ToolCallSession Tools, SharedSession? Shared) Acquire(BridgeBackend backend, string? sessionId)
    {
        if (sessionId is null)
        {
            // No MCP session (a stateless request): the POST is the whole connection.
            return (new ToolCallSession(backend.Recorder, null, logger), null);
        }
        while (true)
        {
            var shared = sessions.GetOrAdd((backend.Name, sessionId), _ => new SharedSession(new ToolCallSession(backend.Recorder, sessionId, logger)));
            lock (shared)
            {
                if (shared.Users >= 0)
                {
                    shared.Users++;
                    return (shared.Tools, shared);
                }
            }
            // It was let go between the lookup and the lock: take a new one.
        }
    }

    private void Release(BridgeBackend backend, string? sessionId, SharedSession? shared)
    {
        if (shared is null)
        {
            return;
        }
        lock (shared)
        {
            if (--shared.Users == 0 && !shared.Tools.HasPending)
            {
                shared.Users = -1;
                sessions.TryRemove(KeyValuePair.Create((backend.Name, sessionId!), shared));
            }
        }
    }

    private sealed class SharedSession(ToolCallSession tools)
    {
        public ToolCallSession Tools { get; } = tools;

        /// <summary>The POSTs using it; -1 once let go.</summary>
        public int Users { get; set; }
    }

    private async Task<byte[]> RecordJsonAsync(byte[] bytes, BridgeBackend backend, ToolCallSession tools, List<byte[]> refusals,
        CancellationToken cancellationToken)
    {
        if (!RpcMessage.TryParseBody(bytes, out var answers, out var isBatch, out var problem))
        {
            return Unreadable(bytes, problem!, backend, tools);
        }
        var changed = refusals.Count > 0;
        var output = new List<byte[]>(answers.Count + refusals.Count);
        foreach (var answer in answers)
        {
            var delivered = await RecordOneAsync(answer, tools, cancellationToken);
            changed |= !ReferenceEquals(delivered, answer.Raw);
            output.Add(delivered);
        }
        output.AddRange(refusals);
        return changed ? Join(output, isBatch || refusals.Count > 0) : bytes;
    }

    /// <summary>An answer that cannot be read: when it answers a signed call, the client gets an error instead; else it passes as it is.</summary>
    private byte[] Unreadable(byte[] bytes, string problem, BridgeBackend backend, ToolCallSession tools)
    {
        if (RpcMessage.PeekId(bytes, out var isAnswer) is { } rawId && isAnswer && ParseId(rawId) is { } id
            && tools.TryTakeResponse(id, out var signed))
        {
            BridgeLog.BadBackendAnswer(logger, backend.Name, tools.SessionId, signed.CallId, BridgeText.Sentence(problem));
            return RpcMessage.Error((byte[]?)signed.State, -32603, $"The tool server's answer could not be read ({BridgeText.Sentence(problem)}); the call's outcome is unknown");
        }
        BridgeLog.BadBackendLine(logger, backend.Name, tools.SessionId, BridgeText.Sentence(problem));
        return bytes;
    }

    private static async Task<byte[]> RecordOneAsync(RpcMessage answer, ToolCallSession tools, CancellationToken cancellationToken)
    {
        if (answer.Kind == RpcKind.Response && answer.RawId is { } rawId && ParseId(rawId) is { } id && tools.TryTakeResponse(id, out var signed))
        {
            return await CallSigner.RecordAnswerAsync(answer, signed, (byte[]?)signed.State, tools, cancellationToken);
        }
        return answer.Raw;
    }

    /// <summary>An id as sent, for the session to match (null when it is not one JSON value).</summary>
    private static System.Text.Json.Nodes.JsonNode? ParseId(byte[] rawId)
    {
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(rawId);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Copies an SSE stream event by event, recording answers to signed calls on the way.</summary>
    private async Task RelaySseAsync(Stream upstream, HttpContext context, BridgeBackend backend, ToolCallSession tools,
        CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(upstream, Encoding.UTF8);
        var output = context.Response.Body;
        var eventLines = new List<string>();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length > 0)
            {
                eventLines.Add(line);
                continue;
            }
            var data = string.Join("\n", eventLines.Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].TrimStart(' ')));
            if (data.Length > 0)
            {
                var bytes = Encoding.UTF8.GetBytes(data);
                byte[]? delivered = null;
                if (RpcMessage.ParseLine(bytes, out var problem) is { } message)
                {
                    var recorded = await RecordOneAsync(message, tools, cancellationToken);
                    delivered = ReferenceEquals(recorded, message.Raw) ? null : recorded;
                }
                else if (Unreadable(bytes, problem!, backend, tools) is var replaced && !ReferenceEquals(replaced, bytes))
                {
                    delivered = replaced;
                }
                if (delivered is not null)
                {
                    eventLines = eventLines.Where(l => !l.StartsWith("data:", StringComparison.Ordinal)).Append("data: " + Encoding.UTF8.GetString(delivered)).ToList();
                }
            }
            var frame = Encoding.UTF8.GetBytes(string.Join("\n", eventLines) + "\n\n");
            await output.WriteAsync(frame, cancellationToken);
            await output.FlushAsync(cancellationToken);
            eventLines.Clear();
        }
    }

    private static byte[] Join(List<byte[]> messages, bool batch)
    {
        if (!batch && messages.Count == 1)
        {
            return messages[0];
        }
        using var joined = new MemoryStream();
        joined.WriteByte((byte)'[');
        for (var i = 0; i < messages.Count; i++)
        {
            if (i > 0)
            {
                joined.WriteByte((byte)',');
            }
            joined.Write(messages[i]);
        }
        joined.WriteByte((byte)']');
        return joined.ToArray();
    }

    public void Dispose() => http.Dispose();
}
