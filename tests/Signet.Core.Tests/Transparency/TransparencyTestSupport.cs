using System.Security.Cryptography;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

internal static class TestKeys
{
    /// <summary>A deterministic key from a one-byte seed pattern.</summary>
    public static SigningKey Make(byte b) => SigningKey.FromSeed(Enumerable.Repeat(b, 32).ToArray());

    public static Checkpoint Checkpoint(long size = 5, string origin = "example.com/log") =>
        new(origin, size, SHA256.HashData(BitConverter.GetBytes(size)));
}
