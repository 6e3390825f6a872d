using Signet.Keys;

namespace Signet.Core.Tests.Keys;

public sealed class PublicKeyParseTests
{
    [Fact]
    public void TryParse_LastDigitWithUnusedBitsSet_Refused()
    {
        using var key = SigningKey.Generate();
        var b64 = key.PublicKey.Text["ed25519:".Length..];
        const string Digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        // 32 bytes end in a digit with 2 unused bits: setting one spells the same bytes differently.
        var respelled = b64[..42] + Digits[Digits.IndexOf(b64[42], StringComparison.Ordinal) ^ 1] + "=";
        Assert.Equal(Convert.FromBase64String(b64), Convert.FromBase64String(respelled));

        Assert.True(PublicKey.TryParse("ed25519:" + b64, out _, out _));
        Assert.False(PublicKey.TryParse("ed25519:" + respelled, out _, out var error));
        Assert.Contains("not valid base64", error, StringComparison.Ordinal);
    }
}
