using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Signet.Keys;

namespace Signet.Core.Tests;

/// <summary>A RandomSource that replays given bytes, then fails: makes nonces reproducible.</summary>
internal sealed class ScriptedRandom(params byte[][] chunks) : RandomSource
{
    private readonly Queue<byte[]> _chunks = new(chunks);

    public override void Fill(Span<byte> buffer)
    {
        var next = _chunks.Dequeue();
        Assert.Equal(buffer.Length, next.Length);
        next.CopyTo(buffer);
    }

    public static ScriptedRandom ForNonces(params string[] nonces) =>
        new([.. nonces.Select(n => Convert.FromHexString(n["rnd_".Length..]))]);
}

/// <summary>A deterministic RandomSource for tests that need many random bytes.</summary>
internal sealed class SeededRandom(int seed) : RandomSource
{
    private readonly Random _random = new(seed);

    public override void Fill(Span<byte> buffer) => _random.NextBytes(buffer);
}

internal static class TestKeys
{
    private static JsonNode Summary => SharedVectors.Load("vectors", "summary.json")["keys"]!;

    public static SigningKey Agent() => FromSummary("agent");

    public static SigningKey Server() => FromSummary("server");

    public static SigningKey Other() => FromSummary("other");

    public static PublicKey AgentPublic => PublicKey.Parse(Summary["agent"]!["public_key"]!.GetValue<string>());

    public static PublicKey ServerPublic => PublicKey.Parse(Summary["server"]!["public_key"]!.GetValue<string>());

    private static SigningKey FromSummary(string name) =>
        SigningKey.FromSeed(Convert.FromBase64String(Summary[name]!["secret_key"]!.GetValue<string>()));

    public static FakeTimeProvider ClockAt(string timestamp) => new(DateTimeOffset.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture));
}
