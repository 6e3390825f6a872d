namespace Signet.Bridge;

/// <summary>Limits with defaults suited to a single user's tool servers.</summary>
public sealed class BridgeLimits
{
    /// <summary>The largest POST body accepted (default 4 MiB); larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The longest line a stdio server may write (default 64 MiB); a longer one ends its session.</summary>
    public int MaxBackendMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How many sessions (one child process each) may be open at once (default 32).</summary>
    public int MaxSessions { get; set; } = 32;

    /// <summary>A session with no traffic and no call in flight for this long is ended (default 30 minutes).</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a stdio server gets to exit after its stdin is closed before its process tree is killed (default 2 s).</summary>
    public TimeSpan ChildShutdownTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often an idle server-to-client stream gets an SSE comment so tunnels keep it open (default 15 s).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long shutdown waits for calls in flight (default 30 s).</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Server messages kept for a session's server-to-client stream while none is open (default 256; oldest dropped).</summary>
    public int MaxBacklogMessages { get; set; } = 256;
}
