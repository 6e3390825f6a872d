using Microsoft.Extensions.Time.Testing;
using Signet.Mcp.Server;

namespace Signet.Mcp.Tests.Server;

public sealed class FileNonceCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("signet-nonces-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    private string CachePath => Path.Combine(_dir, "nonces.txt");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TryRecord_AfterReopen_ReplayStillRefused()
    {
        var expiry = _clock.GetUtcNow().AddMinutes(5);
        using (var cache = new FileNonceCache(CachePath, timeProvider: _clock))
        {
            Assert.True(cache.TryRecord("ed25519:k", "rnd_1", expiry));
            Assert.False(cache.TryRecord("ed25519:k", "rnd_1", expiry));
        }

        using var reopened = new FileNonceCache(CachePath, timeProvider: _clock);

        Assert.False(reopened.TryRecord("ed25519:k", "rnd_1", expiry));
        Assert.True(reopened.TryRecord("ed25519:k", "rnd_2", expiry));
    }

    [Fact]
    public void Open_ExpiredEntriesAndTornLine_Dropped()
    {
        using (var cache = new FileNonceCache(CachePath, timeProvider: _clock))
        {
            cache.TryRecord("k", "old", _clock.GetUtcNow().AddMinutes(1));
            cache.TryRecord("k", "new", _clock.GetUtcNow().AddMinutes(10));
        }
        File.AppendAllText(CachePath, "99999999999999 k torn-without-newl");
        _clock.Advance(TimeSpan.FromMinutes(2));

        using var reopened = new FileNonceCache(CachePath, timeProvider: _clock);

        Assert.Equal(1, reopened.Count);
        Assert.True(reopened.TryRecord("k", "old", _clock.GetUtcNow().AddMinutes(1)));
        Assert.False(reopened.TryRecord("k", "new", _clock.GetUtcNow().AddMinutes(1)));
        Assert.DoesNotContain("torn", File.ReadAllText(CachePath), StringComparison.Ordinal);
    }

    [Fact]
    public void Open_WhileOpenElsewhere_Throws()
    {
        using var first = new FileNonceCache(CachePath, timeProvider: _clock);

        Assert.ThrowsAny<IOException>(() => new FileNonceCache(CachePath, timeProvider: _clock));
    }

    [Fact]
    public void TryRecord_ManyExpired_FileCompacted()
    {
        using var cache = new FileNonceCache(CachePath, maxEntries: 10, timeProvider: _clock);
        for (var i = 0; i < 30; i++)
        {
            cache.TryRecord("k", $"rnd_{i}", _clock.GetUtcNow().AddMinutes(5));
        }

        Assert.Equal(10, cache.Count);
        Assert.True(File.ReadAllLines(CachePath).Length <= 21);
        Assert.False(cache.TryRecord("k", "rnd_29", _clock.GetUtcNow().AddMinutes(5)));
    }
}
