using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Mcp.Server;
using StackExchange.Redis;

namespace Signet.Mcp.Redis;

/// <summary>
/// A nonce cache in Redis, shared by every server that uses the same Redis: a receipt one of them accepted is refused
/// as a replay by all of them.
/// </summary>
/// <remarks>
/// Each nonce is one key, <c>{KeyPrefix}{signer key}:{nonce}</c> (a part longer than 128 characters is written as
/// <c>sha256:</c> + hex of its SHA-256), recorded with <c>SET key "" NX PX ttl</c>: one atomic record-if-absent, whose
/// TTL is the time left until the expiry the verifier gives (the receipt's <c>ts</c> + <c>MaxAge</c> +
/// <c>ClockSkew</c>), so the key lives exactly as long as the receipt could be accepted. When Redis cannot be reached,
/// answers with an error or does not answer within <see cref="RedisNonceCacheOptions.Timeout"/>,
/// <see cref="TryRecord"/> throws <see cref="NonceCacheUnavailableException"/> and the verifier refuses the call; with
/// <see cref="NonceCacheFailureMode.FailOpen"/> it accepts the call and logs a warning each time. Thread-safe. Dispose it
/// to close a connection it made; a connection the host gave it is left open.
/// </remarks>
public sealed partial class RedisNonceCache : INonceCache, IDisposable
{
    private const int MaxRawPartLength = 128;
    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly RedisNonceCacheOptions _options;
    private readonly ILogger _logger;

    /// <summary>Connects to the Redis of <see cref="RedisNonceCacheOptions.Configuration"/>; the cache owns the connection.</summary>
    /// <remarks>
    /// The constructor waits for one connection attempt at most (<see cref="RedisNonceCacheOptions.ConnectTimeout"/>) and
    /// does not fail when Redis is down: checks fail (closed, by default) until the connection, which keeps retrying, is up.
    /// </remarks>
    public RedisNonceCache(RedisNonceCacheOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Configuration))
        {
            throw new ArgumentException(
                "RedisNonceCacheOptions.Configuration is not set: give the Redis configuration string (host:port,…), or pass the host's IConnectionMultiplexer.",
                nameof(options));
        }
        _options = Validated(options);
        _logger = (ILogger?)loggerFactory?.CreateLogger<RedisNonceCache>() ?? NullLogger.Instance;
        ConfigurationOptions config;
        try
        {
            config = ConfigurationOptions.Parse(options.Configuration);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"RedisNonceCacheOptions.Configuration is not a Redis configuration string: {e.Message}", nameof(options), e);
        }
        // The host starts while Redis is down (the connection keeps retrying), and a check made while it is disconnected
        // fails at once instead of waiting in a queue: calls are refused, or passed in fail-open mode, without delay.
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.SyncTimeout = config.AsyncTimeout = Milliseconds(_options.Timeout);
        config.ConnectTimeout = Milliseconds(_options.ConnectTimeout);
        Redis = Describe(config.EndPoints);
        _connection = ConnectionMultiplexer.Connect(config);
        _ownsConnection = true;
        Subscribe();
    }

    /// <summary>Uses a connection the host made (its timeouts apply); the cache does not close it.</summary>
    /// <remarks><see cref="RedisNonceCacheOptions.Configuration"/>, <see cref="RedisNonceCacheOptions.Timeout"/> and <see cref="RedisNonceCacheOptions.ConnectTimeout"/> are not used.</remarks>
    public RedisNonceCache(IConnectionMultiplexer connection, RedisNonceCacheOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _options = Validated(options ?? new RedisNonceCacheOptions());
        _logger = (ILogger?)loggerFactory?.CreateLogger<RedisNonceCache>() ?? NullLogger.Instance;
        _connection = connection;
        Redis = Describe(connection.GetEndPoints());
        Subscribe();
    }

    /// <summary>The settings this cache runs with (its own copy).</summary>
    public RedisNonceCacheOptions Options => _options;

    /// <summary>The Redis endpoints, as messages name them (never with a password).</summary>
    public string Redis { get; }

    /// <inheritdoc/>
    /// <remarks>
    /// Blocks the calling thread until Redis answers; the server filters ask with <see cref="TryRecordAsync"/>, which
    /// does not (under a burst of calls, threads blocked here can delay the reads of Redis's answers until they time out).
    /// </remarks>
    /// <exception cref="NonceCacheUnavailableException">Redis did not record the nonce, in <see cref="NonceCacheFailureMode.FailClosed"/> mode.</exception>
    public bool TryRecord(string signerKey, string nonce, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(signerKey);
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        try
        {
            return _connection.GetDatabase().StringSet(Key(signerKey, nonce), RedisValue.EmptyString, Ttl(expiresAt), When.NotExists);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            return Unanswered(e);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="NonceCacheUnavailableException">Redis did not record the nonce, in <see cref="NonceCacheFailureMode.FailClosed"/> mode.</exception>
    public async ValueTask<bool> TryRecordAsync(string signerKey, string nonce, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(signerKey);
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        try
        {
            return await _connection.GetDatabase().StringSetAsync(Key(signerKey, nonce), RedisValue.EmptyString, Ttl(expiresAt), When.NotExists)
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            return Unanswered(e);
        }
    }

    /// <summary>Refuses (throws) or, fail-open, accepts a check Redis did not answer.</summary>
    private bool Unanswered(Exception e)
    {
        var cause = Cause(e);
        if (_options.FailureMode == NonceCacheFailureMode.FailOpen)
        {
            LogFailOpen(_logger, Redis, cause);
            return true;
        }
        throw new NonceCacheUnavailableException(
            $"the nonce cache in Redis ({Redis}) did not answer ({cause}), so replay cannot be checked and the call is refused: "
            + "start Redis or make it reachable (RedisNonceCacheOptions.Configuration), or set RedisNonceCacheOptions.FailureMode to FailOpen to accept calls unchecked while it is down",
            e);
    }

    /// <summary>Closes the connection when the cache made it.</summary>
    public void Dispose()
    {
        _connection.ConnectionFailed -= OnConnectionFailed;
        _connection.ConnectionRestored -= OnConnectionRestored;
        if (_ownsConnection)
        {
            _connection.Dispose();
        }
    }

    /// <summary>The Redis key of a signer's nonce.</summary>
    internal string Key(string signerKey, string nonce) => _options.KeyPrefix + Part(signerKey) + ":" + Part(nonce);

    /// <summary>The time left until <paramref name="expiresAt"/>, in whole milliseconds rounded up, and at least one (a key without a TTL would never go).</summary>
    internal TimeSpan Ttl(DateTimeOffset expiresAt)
    {
        var left = Math.Ceiling((expiresAt - _options.TimeProvider.GetUtcNow()).TotalMilliseconds);
        return TimeSpan.FromMilliseconds(Math.Max(1, left));
    }

    private static string Part(string text) => text.Length <= MaxRawPartLength
        ? text
        : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static RedisNonceCacheOptions Validated(RedisNonceCacheOptions options)
    {
        var problems = options.Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(options));
        }
        return options.Clone();
    }

    private static int Milliseconds(TimeSpan span) => (int)Math.Ceiling(span.TotalMilliseconds);

    private string Cause(Exception e) => e switch
    {
        RedisTimeoutException => _ownsConnection ? $"no answer within {_options.Timeout.TotalMilliseconds:0} ms" : "no answer in time",
        RedisConnectionException c => $"no connection: {c.FailureType}",
        RedisServerException s => $"it answered with an error: {FirstLine(s.Message)}",
        ObjectDisposedException => "the connection is closed",
        _ => FirstLine(e.Message),
    };

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    private static string Describe(IEnumerable<EndPoint> endpoints)
    {
        var names = endpoints.Select(e => e switch
        {
            DnsEndPoint dns => string.Create(CultureInfo.InvariantCulture, $"{dns.Host}:{dns.Port}"),
            _ => e.ToString() ?? "?",
        }).ToList();
        return names.Count == 0 ? "no endpoint" : string.Join(",", names);
    }

    private void Subscribe()
    {
        _connection.ConnectionFailed += OnConnectionFailed;
        _connection.ConnectionRestored += OnConnectionRestored;
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        LogConnectionFailed(_logger, Redis, e.FailureType, e.ConnectionType);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) =>
        LogConnectionRestored(_logger, Redis, e.ConnectionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "FAIL-OPEN: the nonce cache in Redis ({Redis}) did not answer ({Cause}); accepting the call without a replay check")]
    private static partial void LogFailOpen(ILogger logger, string redis, string cause);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection to the nonce cache in Redis ({Redis}): {FailureType} ({ConnectionType}); reconnecting")]
    private static partial void LogConnectionFailed(ILogger logger, string redis, ConnectionFailureType failureType, ConnectionType connectionType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconnected to the nonce cache in Redis ({Redis}) ({ConnectionType})")]
    private static partial void LogConnectionRestored(ILogger logger, string redis, ConnectionType connectionType);
}
