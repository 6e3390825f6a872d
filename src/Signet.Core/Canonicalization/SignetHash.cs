using System.Security.Cryptography;

namespace Signet.Canonicalization;

/// <summary>SHA-256 in Signet's text form.</summary>
public static class SignetHash
{
    /// <summary>The genesis <c>prev_hash</c> of an audit chain: <c>sha256:</c> and 64 zeros.</summary>
    public const string Genesis = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary><c>"sha256:"</c> + lowercase hex of SHA-256 of the bytes.</summary>
    public static string Sha256(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(data, hash);
        return "sha256:" + Convert.ToHexStringLower(hash);
    }

    /// <summary>True if the text has the form <c>sha256:</c> + 64 lowercase hex digits.</summary>
    public static bool IsWellFormed(string? value) =>
        value is { Length: 71 } && value.StartsWith("sha256:", StringComparison.Ordinal) &&
        value.AsSpan(7).IndexOfAnyExcept("0123456789abcdef") < 0;
}
