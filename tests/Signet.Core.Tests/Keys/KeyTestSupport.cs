using Signet.Keys;

namespace Signet.Core.Tests.Keys;

/// <summary>A fresh temporary keys directory per test, removed afterwards.</summary>
internal sealed class TempKeysDirectory : IDisposable
{
    public TempKeysDirectory()
    {
        Home = Path.Combine(Path.GetTempPath(), "signet-keys-" + Guid.NewGuid().ToString("N"));
        Keys = SignetHome.KeysDirectory(Home);
    }

    public string Home { get; }

    public string Keys { get; }

    public string KeyFile(string name) => Path.Combine(Keys, name + ".key");

    public string PubFile(string name) => Path.Combine(Keys, name + ".pub");

    public void Dispose()
    {
        if (Directory.Exists(Home))
        {
            Directory.Delete(Home, recursive: true);
        }
    }
}

/// <summary>Deterministic bytes: 1, 2, 3, … so tests can predict salts, nonces and seeds.</summary>
internal sealed class CountingRandom : RandomSource
{
    private byte _next = 1;

    public override void Fill(Span<byte> buffer)
    {
        for (var i = 0; i < buffer.Length; i++)
        {
            buffer[i] = _next++;
        }
    }
}

internal static class TestStores
{
    /// <summary>Argon2id at its minimum cost, so tests that are not about the cost stay fast.</summary>
    public static readonly Argon2Cost Cheap = new(8, 1, 1);

    public static KeyStore Fast(TempKeysDirectory dir, TimeProvider? time = null) =>
        new(dir.Keys, time, new CountingRandom(), Cheap);
}
