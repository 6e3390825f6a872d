using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Signet.Bridge.JsonRpc;
using Signet.Bridge.Sessions;

namespace Signet.Bridge.Http;

/// <summary>
/// Streamable HTTP in front of stdio backends: POST (answers as SSE, or JSON for clients that accept only JSON),
/// GET (the server-to-client stream), DELETE (ends the session and its child).
/// </summary>
internal sealed class StdioEndpoint(SessionManager sessions, BridgeLimits limits, TimeProvider time, ILogger logger, CancellationToken stopping)
{
    internal static readonly HashSet<string> ProtocolVersions = new(StringComparer.Ordinal)
    {
        "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28",
    };

    private static readonly byte[] EventPrefix = "event: message\ndata: "u8.ToArray();
    private static readonly byte[] EventSuffix = "\n\n"u8.ToArray();
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();

    public Task HandleAsync(HttpContext context, BridgeBackend backend) => context.Request.Method switch
    {
        "POST" => PostAsync(context, backend),
        "GET" => GetAsync(context, backend),
        "DELETE" => DeleteAsync(context, backend),
        _ => MethodNotAllowed(context),
    };

    private static Task MethodNotAllowed(HttpContext context)
    {
        context.Response.Headers.Allow = "GET, POST, DELETE";
        return WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed");
    }

    private async Task PostAsync(HttpContext context, BridgeBackend backend)
    {
        var request = context.Request;
        var accept = request.Headers.Accept.ToString();
        var acceptsSse = accept.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) || accept.Contains("*/*", StringComparison.Ordinal);
        var acceptsJson = accept.Contains("application/json", StringComparison.OrdinalIgnoreCase) || accept.Contains("*/*", StringComparison.Ordinal);
        if (!acceptsSse && !acceptsJson)
        {
            await WriteErrorAsync(context, StatusCodes.Status406NotAcceptable, "Not Acceptable: Client must accept application/json and text/event-stream");
            return;
        }
        if (!(request.ContentType ?? "").StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type: Content-Type must be application/json");
            return;
        }
        if (!CheckProtocolVersion(context, out var versionError))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, versionError);
            return;
        }

        if (await RequestBody.ReadAsync(context, limits.MaxRequestBodyBytes, logger) is not { } body)
        {
            return;
        }
        if (!RpcMessage.TryParseBody(body, out var messages, out _, out var parseError))
        {
            LogRefusal(logger, context, StatusCodes.Status400BadRequest, parseError!);
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, parseError!, -32700);
            return;
        }
        // A tools/call that cannot be signed is refused with its own answer in the session; anything else unreadable is a 400.
        if (messages.Count == 0 || messages.Any(m => m.Kind == RpcKind.Invalid && !m.IsToolCall))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid Request: not a JSON-RPC 2.0 message", -32600);
            return;
        }
        if (HeaderMismatch(request, messages) is { } mismatch)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, mismatch, -32020);
            return;
        }

        var sessionId = request.Headers["Mcp-Session-Id"].ToString();
        StdioSession? session;
        var isInitialize = messages.Any(m => m.Kind == RpcKind.Request && m.Method == "initialize");
        if (sessionId.Length == 0)
        {
            if (isInitialize && messages.Count == 1)
            {
                session = await sessions.CreateAsync(backend);
                if (session is null)
                {
                    context.Response.Headers.RetryAfter = "30";
                    await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, $"Too many sessions (limit {limits.MaxSessions}); try again later");
                    return;
                }
                context.Response.Headers["Mcp-Session-Id"] = session.Id;
            }
            else if (messages.Count == 1 && messages[0] is { Kind: RpcKind.Request, Method: "server/discover" } discover)
            {
                // Stateless (2026-07-28) requests need a server that keeps no per-client state; a stdio server has exactly one
                // client. Answering discovery with "method not found" makes 2026-era clients fall back to an initialize session.
                await WriteMessagesAsync(context, acceptsSse,
                    [RpcMessage.Error(discover.RawId, -32601, "Method not found: this bridge serves stdio tool servers through initialize sessions")]);
                return;
            }
            else
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Bad Request: Mcp-Session-Id header is required (send initialize first)");
                return;
            }
        }
        else
        {
            session = sessions.Find(sessionId, backend);
            if (session is null)
            {
                await WriteErrorAsync(context, StatusCodes.Status404NotFound, "Session not found", -32001);
                return;
            }
            if (isInitialize)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid Request: the session is already initialized", -32600);
                return;
            }
        }

        var stream = await session.SubmitAsync(messages, context.RequestAborted);
        if (stream is null)
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }
        try
        {
            if (acceptsSse)
            {
                await PumpSseAsync(context, stream, CancellationToken.None);
            }
            else
            {
                await WriteJsonAnswersAsync(context, stream, messages.Count > 1);
            }
        }
        finally
        {
            session.Detach(stream);
        }
    }

    private async Task GetAsync(HttpContext context, BridgeBackend backend)
    {
        if (!context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            await WriteErrorAsync(context, StatusCodes.Status406NotAcceptable, "Not Acceptable: Client must accept text/event-stream");
            return;
        }
        if (!CheckProtocolVersion(context, out var versionError))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, versionError);
            return;
        }
        var session = await FindSessionAsync(context, backend);
        if (session is null)
        {
            return;
        }
        var stream = session.OpenGetStream();
        if (stream is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status409Conflict, "Conflict: Only one SSE stream is allowed per session");
            return;
        }
        try
        {
            await PumpSseAsync(context, stream, stopping, keepAlive: true);
        }
        finally
        {
            session.Detach(stream);
        }
    }

    private async Task DeleteAsync(HttpContext context, BridgeBackend backend)
    {
        var session = await FindSessionAsync(context, backend);
        if (session is not null)
        {
            await sessions.EndAsync(session, "the client deleted it");
            context.Response.StatusCode = StatusCodes.Status200OK;
        }
    }

    private async Task<StdioSession?> FindSessionAsync(HttpContext context, BridgeBackend backend)
    {
        var id = context.Request.Headers["Mcp-Session-Id"].ToString();
        if (id.Length == 0)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Bad Request: Mcp-Session-Id header is required");
            return null;
        }
        var session = sessions.Find(id, backend);
        if (session is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "Session not found", -32001);
        }
        return session;
    }

    private static bool CheckProtocolVersion(HttpContext context, out string error)
    {
        var version = context.Request.Headers["MCP-Protocol-Version"].ToString();
        error = $"Bad Request: Unsupported protocol version: {version} (supported: {string.Join(", ", ProtocolVersions)})";
        return version.Length == 0 || ProtocolVersions.Contains(version);
    }

    /// <summary>The 2026-07-28 routing headers must agree with the body; signing never changes method or name.</summary>
    private static string? HeaderMismatch(HttpRequest request, List<RpcMessage> messages)
    {
        if (messages.Count != 1)
        {
            return null;
        }
        var method = request.Headers["Mcp-Method"].ToString();
        if (method.Length > 0 && method != messages[0].Method)
        {
            return "Bad Request: the Mcp-Method header does not match the body";
        }
        var name = request.Headers["Mcp-Name"].ToString();
        if (name.Length > 0 && messages[0].Name is { } bodyName && name != bodyName)
        {
            return "Bad Request: the Mcp-Name header does not match the body";
        }
        return null;
    }

    private async Task PumpSseAsync(HttpContext context, ResponseStream stream, CancellationToken extra, bool keepAlive = false)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Accel-Buffering"] = "no";
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, extra);
        var ct = linked.Token;
        var body = response.BodyWriter;
        var reader = stream.Reader;
        try
        {
            if (keepAlive)
            {
                await response.StartAsync(ct);
                await body.FlushAsync(ct);
            }
            while (true)
            {
                while (reader.TryRead(out var message))
                {
                    body.Write(EventPrefix);
                    body.Write(message);
                    body.Write(EventSuffix);
                }
                await body.FlushAsync(ct);
                if (!keepAlive)
                {
                    if (!await reader.WaitToReadAsync(ct))
                    {
                        break;
                    }
                    continue;
                }
                using var interval = new CancellationTokenSource(limits.KeepAliveInterval, time);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct, interval.Token);
                try
                {
                    if (!await reader.WaitToReadAsync(wait.Token))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // Quiet for a while: a comment line keeps tunnels and proxies from closing the stream.
                    body.Write(KeepAlive);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away or the bridge is stopping; answers still reach the recorder.
        }
    }

    private static async Task WriteJsonAnswersAsync(HttpContext context, ResponseStream stream, bool batch)
    {
        var answers = new List<byte[]>();
        try
        {
            await foreach (var message in stream.Reader.ReadAllAsync(context.RequestAborted))
            {
                // A JSON answer carries responses only; progress and server messages need the SSE form.
                if (RpcMessage.ParseLine(message) is { Kind: RpcKind.Response })
                {
                    answers.Add(message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        var body = context.Response.BodyWriter;
        if (batch)
        {
            body.Write("["u8);
        }
        for (var i = 0; i < answers.Count; i++)
        {
            if (i > 0)
            {
                body.Write(","u8);
            }
            body.Write(answers[i]);
        }
        if (batch)
        {
            body.Write("]"u8);
        }
        await body.FlushAsync(context.RequestAborted);
    }

    private static async Task WriteMessagesAsync(HttpContext context, bool sse, IReadOnlyList<byte[]> messages)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = sse ? "text/event-stream" : "application/json";
        foreach (var message in messages)
        {
            if (sse)
            {
                response.BodyWriter.Write(EventPrefix);
            }
            response.BodyWriter.Write(message);
            if (sse)
            {
                response.BodyWriter.Write(EventSuffix);
            }
        }
        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    /// <summary>An HTTP error with a JSON-RPC error body, as the reference TypeScript server answers.</summary>
    internal static async Task WriteErrorAsync(HttpContext context, int status, string message, int code = -32000, byte[]? rawId = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(RpcMessage.Error(rawId, code, message), context.RequestAborted);
    }

    internal static void LogRefusal(ILogger logger, HttpContext context, int status, string reason) =>
        BridgeLog.Refused(logger, status, context.Connection.RemoteIpAddress?.ToString(), reason);
}
