using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Signet.Bridge.Sessions;

/// <summary>
/// The open sessions: creates them (evicting the longest-idle quiet session at the limit), finds them by id, ends
/// them on DELETE, on idle timeout and at shutdown. Every end stops the session's child process.
/// </summary>
internal sealed class SessionManager : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, StdioSession> sessions = new(StringComparer.Ordinal);
    private readonly BridgeLimits limits;
    private readonly TimeProvider time;
    private readonly RandomSource random;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private readonly SemaphoreSlim createLock = new(1, 1);
    private readonly Task sweeper;
    private int disposed;

    public SessionManager(BridgeLimits limits, TimeProvider time, RandomSource random, ILogger logger)
    {
        this.limits = limits;
        this.time = time;
        this.random = random;
        this.logger = logger;
        sweeper = SweepAsync();
    }

    public int Count => sessions.Count;

    /// <summary>The open sessions (a snapshot).</summary>
    public IReadOnlyCollection<StdioSession> Sessions => sessions.Values.ToList();

    /// <summary>Opens a session with a fresh child; null when the limit is reached and no session is quiet enough to evict.</summary>
    public async Task<StdioSession?> CreateAsync(BridgeBackend backend)
    {
        ObjectDisposedException.ThrowIf(disposed != 0, this);
        await createLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (sessions.Count >= limits.MaxSessions)
            {
                var victim = sessions.Values.Where(s => s.IsQuiet).MaxBy(s => s.IdleFor);
                if (victim is null)
                {
                    return null;
                }
                BridgeLog.Evicted(logger, limits.MaxSessions, victim.Id);
                await EndAsync(victim, "evicted at the session limit").ConfigureAwait(false);
            }
            Span<byte> bytes = stackalloc byte[16];
            random.Fill(bytes);
            var session = new StdioSession(Convert.ToHexStringLower(bytes), backend, limits, time, logger);
            session.Start();
            sessions[session.Id] = session;
            _ = session.Ended.ContinueWith(_ => sessions.TryRemove(session.Id, out var _), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return session;
        }
        finally
        {
            createLock.Release();
        }
    }

    /// <summary>The open session with this id and backend, or null.</summary>
    public StdioSession? Find(string id, BridgeBackend backend) =>
        sessions.TryGetValue(id, out var session) && ReferenceEquals(session.Backend, backend) && !session.Ended.IsCompleted ? session : null;

    /// <summary>Ends a session and stops its child.</summary>
    public async Task EndAsync(StdioSession session, string reason)
    {
        sessions.TryRemove(session.Id, out _);
        await session.EndAsync(reason).ConfigureAwait(false);
    }

    private async Task SweepAsync()
    {
        var period = TimeSpan.FromTicks(Math.Clamp(limits.SessionIdleTimeout.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromSeconds(30).Ticks));
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping.Token).ConfigureAwait(false))
            {
                await SweepOnceAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Ends every quiet session idle for longer than the idle timeout.</summary>
    internal async Task SweepOnceAsync()
    {
        foreach (var session in sessions.Values)
        {
            if (session.IsQuiet && session.IdleFor >= limits.SessionIdleTimeout)
            {
                await EndAsync(session, "idle for longer than " + limits.SessionIdleTimeout).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Ends every session (their children are stopped) and the idle sweep.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }
        await stopping.CancelAsync().ConfigureAwait(false);
        await sweeper.ConfigureAwait(false);
        BridgeLog.Stopping(logger, sessions.Count);
        await Task.WhenAll(sessions.Values.Select(s => EndAsync(s, "the bridge stopped"))).ConfigureAwait(false);
        stopping.Dispose();
        createLock.Dispose();
    }
}
