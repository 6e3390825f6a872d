using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Signet.Bridge.JsonRpc;
using Signet.Bridge.Sessions;

namespace Signet.Bridge.Http;

/// <summary>
/// Streamable HTTP in front of a remote Streamable HTTP server: requests are forwarded as they are (headers that carry
/// MCP state included, so sessions and 2026-07-28 stateless requests both work), with each tools/call signed on the way
/// out and its answer recorded on the way back, whether it comes as JSON or in an SSE stream.
/// </summary>
internal sealed class RemoteEndpoint(ILogger logger, CancellationToken stopping) : IDisposable
{
    private static readonly string[] ForwardedRequestHeaders =
        ["Accept", "Mcp-Session-Id", "MCP-Protocol-Version", "Mcp-Method", "Mcp-Name", "Last-Event-ID"];

    private static readonly string[] ForwardedResponseHeaders = ["Mcp-Session-Id", "Cache-Control", "Retry-After", "Allow"];

    private readonly HttpClient http = new(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

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
        var signedCalls = new Dictionary<string, string>(StringComparer.Ordinal);

        if (request.Method == "POST")
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, context.RequestAborted);
            var body = buffer.ToArray();
            List<RpcMessage> messages;
            bool isBatch;
            try
            {
                messages = RpcMessage.ParseBody(body, out isBatch);
            }
            catch (JsonException)
            {
                await StdioEndpoint.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Parse error: the body is not JSON", -32700);
                return;
            }
            if (messages.Any(m => m.IsToolCall))
            {
                var refusals = new List<byte[]>();
                var forwarded = new List<byte[]>();
                foreach (var message in messages)
                {
                    if (!message.IsToolCall)
                    {
                        forwarded.Add(message.Raw);
                        continue;
                    }
                    var signed = await CallSigner.SignAsync(message, backend.Recorder, sessionId, logger, context.RequestAborted, refusals.Add);
                    if (signed is not null)
                    {
                        forwarded.Add(signed);
                        signedCalls[message.IdKey!] = Mcp.CallId.From(RpcMessage.IdNode(message.IdKey))!;
                    }
                }
                if (forwarded.Count == 0 || (!isBatch && refusals.Count > 0))
                {
                    context.Response.StatusCode = StatusCodes.Status200OK;
                    context.Response.ContentType = "application/json";
                    await context.Response.Body.WriteAsync(Join(refusals, isBatch), context.RequestAborted);
                    return;
                }
                // Refusals inside a batch are dropped from the forwarded batch; their errors are lost to the client only
                // in this rare case of batched signing failures, which the log still reports.
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
            foreach (var callId in signedCalls.Values)
            {
                backend.Recorder.Forget(callId, sessionId);
            }
            await StdioEndpoint.WriteErrorAsync(context, StatusCodes.Status502BadGateway, $"Bad Gateway: backend '{backend.Name}' is unreachable: {e.Message}");
            return;
        }
        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var name in ForwardedResponseHeaders)
            {
                if (response.Headers.TryGetValues(name, out var values))
                {
                    context.Response.Headers[name] = string.Join(",", values);
                }
            }
            var contentType = response.Content.Headers.ContentType?.ToString();
            if (contentType is not null)
            {
                context.Response.ContentType = contentType;
            }
            try
            {
                await using var upstreamBody = await response.Content.ReadAsStreamAsync(linked.Token);
                if (signedCalls.Count == 0)
                {
                    await upstreamBody.CopyToAsync(context.Response.Body, linked.Token);
                }
                else if (contentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true)
                {
                    await RelaySseAsync(upstreamBody, context, backend, sessionId, signedCalls, linked.Token);
                }
                else
                {
                    using var all = new MemoryStream();
                    await upstreamBody.CopyToAsync(all, linked.Token);
                    var bytes = all.ToArray();
                    bytes = await RecordJsonAsync(bytes, backend, sessionId, signedCalls, linked.Token);
                    await context.Response.Body.WriteAsync(bytes, linked.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
            {
                // The client or the backend went away.
            }
            foreach (var callId in signedCalls.Values)
            {
                backend.Recorder.Forget(callId, sessionId);
            }
        }
    }

    private async Task<byte[]> RecordJsonAsync(byte[] bytes, BridgeBackend backend, string? sessionId, Dictionary<string, string> signedCalls,
        CancellationToken cancellationToken)
    {
        List<RpcMessage> answers;
        bool isBatch;
        try
        {
            answers = RpcMessage.ParseBody(bytes, out isBatch);
        }
        catch (JsonException)
        {
            return bytes;
        }
        var changed = false;
        var output = new List<byte[]>(answers.Count);
        foreach (var answer in answers)
        {
            var delivered = await RecordOneAsync(answer, backend, sessionId, signedCalls, cancellationToken);
            changed |= !ReferenceEquals(delivered, answer.Raw);
            output.Add(delivered);
        }
        return changed ? Join(output, isBatch) : bytes;
    }

    private async Task<byte[]> RecordOneAsync(RpcMessage answer, BridgeBackend backend, string? sessionId, Dictionary<string, string> signedCalls,
        CancellationToken cancellationToken)
    {
        if (answer.Kind == RpcKind.Response && answer.IdKey is { } id && signedCalls.Remove(id, out var callId))
        {
            return await CallSigner.RecordAnswerAsync(answer, callId, backend.Recorder, sessionId, logger, cancellationToken);
        }
        return answer.Raw;
    }

    /// <summary>Copies an SSE stream event by event, recording answers to signed calls on the way.</summary>
    private async Task RelaySseAsync(Stream upstream, HttpContext context, BridgeBackend backend, string? sessionId,
        Dictionary<string, string> signedCalls, CancellationToken cancellationToken)
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
            if (data.Length > 0 && RpcMessage.ParseLine(Encoding.UTF8.GetBytes(data)) is { } message)
            {
                var delivered = await RecordOneAsync(message, backend, sessionId, signedCalls, cancellationToken);
                if (!ReferenceEquals(delivered, message.Raw))
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
