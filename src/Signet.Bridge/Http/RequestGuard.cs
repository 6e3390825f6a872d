using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Signet.Bridge.Http;

/// <summary>
/// The door: a Host is required (400), Host and Origin checks against DNS rebinding (403), then the bearer token (401), compared in constant time.
/// </summary>
internal sealed class RequestGuard
{
    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "[::1]", "::1"];
    private readonly HashSet<string> allowedHosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly bool anyIpLiteral;
    private readonly byte[]? tokenHash;

    public RequestGuard(IEnumerable<ListenAddress> listen, string? publicUrl, IEnumerable<string> extraHosts, string? token, bool authDisabled)
    {
        foreach (var address in listen)
        {
            if (address.IsLoopback)
            {
                allowedHosts.UnionWith(LoopbackNames);
            }
            else if (address.IsAnyAddress)
            {
                anyIpLiteral = true;
                allowedHosts.UnionWith(LoopbackNames);
            }
            else
            {
                allowedHosts.Add(address.Host);
            }
        }
        if (publicUrl is not null)
        {
            allowedHosts.Add(new Uri(publicUrl).Host);
        }
        foreach (var host in extraHosts)
        {
            allowedHosts.Add(host.Trim().ToLowerInvariant());
        }
        if (!authDisabled)
        {
            tokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(token ?? throw new SignetException("the bridge needs a bearer token")));
        }
    }

    /// <summary>Null when the request may pass; otherwise the status code and the reason (never the presented secret).</summary>
    public (int Status, string Reason)? Check(HttpRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Host.Host))
        {
            // HTTP/1.1 requires a Host; an empty one names no server, so it cannot pass the DNS-rebinding check either.
            return (StatusCodes.Status400BadRequest, "the Host header is missing or empty");
        }
        if (!IsAllowedHost(request.Host.Host))
        {
            return (StatusCodes.Status403Forbidden, "Host header not allowed");
        }
        if (request.Headers.Origin.Count > 0)
        {
            var origin = request.Headers.Origin.ToString();
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || !IsAllowedHost(uri.Host))
            {
                return (StatusCodes.Status403Forbidden, "Origin not allowed");
            }
        }
        if (tokenHash is null)
        {
            return null;
        }
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return (StatusCodes.Status401Unauthorized, "missing bearer token");
        }
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, tokenHash)
            ? null
            : (StatusCodes.Status401Unauthorized, "wrong bearer token");
    }

    private bool IsAllowedHost(string host)
    {
        if (string.IsNullOrEmpty(host))
        {
            return false;
        }
        if (allowedHosts.Contains(host))
        {
            return true;
        }
        // A bridge bound to every interface is reached by its IP addresses; a literal IP cannot be rebound by DNS.
        return anyIpLiteral && IPAddress.TryParse(host.Trim('[', ']'), out _);
    }
}
