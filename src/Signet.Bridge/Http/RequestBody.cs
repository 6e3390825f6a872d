using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Signet.Bridge.JsonRpc;

namespace Signet.Bridge.Http;

/// <summary>
/// Reads a POST body up to the bridge's limit. Every way it can fail is answered here, logged in one line as what it is
/// (413 too large, 408 too slow, 400 malformed framing), never as an unhandled exception.
/// </summary>
internal static class RequestBody
{
    /// <summary>How much of an oversized body is read to find the id its refusal answers.</summary>
    private const int PeekBytes = 64 * 1024;

    /// <summary>The body, or null when the request has been answered (or the client went away).</summary>
    public static async Task<byte[]?> ReadAsync(HttpContext context, long limit, ILogger logger)
    {
        var request = context.Request;
        using var buffer = new MemoryStream();
        try
        {
            var chunk = new byte[16 * 1024];
            while (true)
            {
                var read = await request.Body.ReadAsync(chunk, context.RequestAborted);
                if (read == 0)
                {
                    return buffer.ToArray();
                }
                buffer.Write(chunk, 0, read);
                // A declared length over the limit is refused once the start has been read, for the id its answer carries.
                if (buffer.Length > limit || (request.ContentLength > limit && buffer.Length >= Math.Min(PeekBytes, limit)))
                {
                    var start = buffer.GetBuffer().AsSpan(0, (int)Math.Min(buffer.Length, PeekBytes));
                    var id = RpcMessage.PeekId(start, out _);
                    var reason = $"the request body is larger than the limit of {limit.ToString(CultureInfo.InvariantCulture)} bytes";
                    StdioEndpoint.LogRefusal(logger, context, StatusCodes.Status413PayloadTooLarge, reason);
                    // The rest is not read: the connection is closed after the answer instead of drained.
                    context.Response.Headers.Connection = "close";
                    await StdioEndpoint.WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge,
                        "Payload Too Large: " + reason + " (--max-body-bytes)", -32600, id);
                    return null;
                }
            }
        }
        catch (BadHttpRequestException e)
        {
            var reason = e.StatusCode == StatusCodes.Status408RequestTimeout
                ? "the request body arrived too slowly"
                : "the request body is malformed: " + BridgeText.Sentence(e.Message);
            StdioEndpoint.LogRefusal(logger, context, e.StatusCode, reason);
            await TryWriteErrorAsync(context, e.StatusCode, (e.StatusCode == StatusCodes.Status408RequestTimeout ? "Request Timeout: " : "Bad Request: ") + reason);
            return null;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away while sending; nobody is left to answer.
            return null;
        }
    }

    private static async Task TryWriteErrorAsync(HttpContext context, int status, string message)
    {
        try
        {
            if (!context.Response.HasStarted)
            {
                await StdioEndpoint.WriteErrorAsync(context, status, message);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The connection is already gone.
        }
    }
}
