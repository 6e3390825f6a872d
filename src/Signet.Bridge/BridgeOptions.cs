using System.Net;
using Signet.Mcp;

namespace Signet.Bridge;

/// <summary>Everything the bridge needs to run: where to listen, who may call, which backends to expose, and its limits.</summary>
public sealed class BridgeOptions
{
    /// <summary>The addresses to listen on, as <c>host:port</c>, <c>http://host:port</c> or <c>https://host:port</c> (default <c>127.0.0.1:8787</c>).</summary>
    public IList<string> Listen { get; set; } = new List<string>();

    /// <summary>The public base URL clients use (a tunnel or reverse proxy); it names the receipt target and is an allowed Host.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>More host names allowed in the Host and Origin headers (for example the tunnel's host name).</summary>
    public IList<string> AllowedHosts { get; set; } = new List<string>();

    /// <summary>The bearer token every MCP request must carry.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// Test-only: accept requests without a bearer token. Allowed only when every listen address is loopback,
    /// so conformance tools that cannot send headers can be pointed at the bridge. Never the default.
    /// </summary>
    public bool DisableAuthenticationOnLoopback { get; set; }

    /// <summary>
    /// How every backend's calls are signed and recorded: the same settings type as the client transport and the proxy
    /// (failure mode, meta-key mode, trusted server keys, required co-signature, response sync, limits). The signer, audit
    /// log, target (each backend's public URL) and transport (<c>http</c>) are filled in per backend.
    /// </summary>
    public SignetOptions Recording { get; set; } = new();

    /// <summary>
    /// The config file's and the command line's shorthand for <see cref="Recording"/>'s
    /// <see cref="SignetOptions.FailureMode"/> = <c>FailOpen</c>: a tools/call that cannot be signed, or whose receipt
    /// cannot be made durable, is forwarded as it came (and a response whose receipt cannot be stored is delivered),
    /// each with one critical <c>FAIL-OPEN</c> log line. Off by default.
    /// </summary>
    public bool FailOpen { get; set; }

    /// <summary>The shorthand for <see cref="Recording"/>'s <see cref="SignetOptions.SyncResponseReceipts"/>.</summary>
    public bool SyncResponseReceipts { get; set; }

    /// <summary>The settings every backend's recorder is made from: <see cref="Recording"/> with the shorthands applied.</summary>
    internal SignetOptions EffectiveRecording()
    {
        var settings = Recording.Clone();
        if (FailOpen)
        {
            settings.FailureMode = Mcp.Recording.RecordingFailureMode.FailOpen;
        }
        settings.SyncResponseReceipts |= SyncResponseReceipts;
        return settings;
    }

    /// <summary>The tool servers behind the bridge, each at its own path.</summary>
    public IList<BridgeBackendOptions> Backends { get; set; } = new List<BridgeBackendOptions>();

    /// <summary>Size and time limits.</summary>
    public BridgeLimits Limits { get; set; } = new();
}

/// <summary>A parsed listen address.</summary>
internal sealed record ListenAddress(string Host, int Port, bool Https)
{
    public bool IsLoopback => Host is "localhost" || (IPAddress.TryParse(Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    public bool IsAnyAddress => Host is "0.0.0.0" or "[::]" or "::" or "*" or "+";

    /// <summary>Parses <c>host:port</c>, <c>[v6]:port</c>, <c>http://host:port</c> or <c>https://host:port</c>.</summary>
    public static ListenAddress Parse(string text)
    {
        var https = false;
        var rest = text.Trim();
        if (rest.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            https = true;
            rest = rest["https://".Length..];
        }
        else if (rest.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            rest = rest["http://".Length..];
        }
        rest = rest.TrimEnd('/');
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || (rest.StartsWith('[') && rest.IndexOf(']', StringComparison.Ordinal) > colon)
            || !int.TryParse(rest[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            || port is < 0 or > 65535)
        {
            throw new SignetException($"listen address '{text}' is not HOST:PORT (for example 127.0.0.1:8787 or https://0.0.0.0:8443)");
        }
        return new ListenAddress(rest[..colon].ToLowerInvariant(), port, https);
    }

    public override string ToString() => $"{(Https ? "https" : "http")}://{Host}:{Port}";
}
