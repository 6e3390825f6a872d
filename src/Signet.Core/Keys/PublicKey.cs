using System.Diagnostics.CodeAnalysis;

namespace Signet.Keys;

/// <summary>An Ed25519 public key. Its text form is <c>ed25519:</c> + padded base64 of the 32 bytes.</summary>
public sealed class PublicKey : IEquatable<PublicKey>
{
    /// <summary>The prefix of the text form.</summary>
    public const string Prefix = "ed25519:";

    private readonly byte[] _bytes;

    /// <summary>Creates a key from its 32 raw bytes.</summary>
    public PublicKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 32)
        {
            throw new ArgumentException($"an Ed25519 public key is 32 bytes, not {bytes.Length}", nameof(bytes));
        }
        _bytes = bytes.ToArray();
        Text = Prefix + Convert.ToBase64String(_bytes);
    }

    /// <summary>The raw 32 bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>The text form, <c>ed25519:&lt;base64&gt;</c>.</summary>
    public string Text { get; }

    /// <summary>Parses <c>ed25519:&lt;base64&gt;</c> or bare padded base64 (the reference's <c>.pub</c> form).</summary>
    public static PublicKey Parse(string text) =>
        TryParse(text, out var key, out var error) ? key : throw new FormatException(error);

    /// <summary>Parses without throwing; <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out PublicKey? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "empty public key";
            return false;
        }
        var b64 = text.StartsWith(Prefix, StringComparison.Ordinal) ? text[Prefix.Length..] : text;
        if (b64.Length != 44 || b64[43] != '=')
        {
            error = $"public key \"{Shorten(text)}\" is not ed25519: + 44 characters of padded base64";
            return false;
        }
        Span<byte> bytes = stackalloc byte[33];
        // Canonical base64 only: a last digit with non-zero unused bits would be a second spelling of the same key.
        if (!Convert.TryFromBase64String(b64, bytes, out var written) || written != 32
            || !string.Equals(Convert.ToBase64String(bytes[..32]), b64, StringComparison.Ordinal))
        {
            error = $"public key \"{Shorten(text)}\" is not valid base64 of 32 bytes";
            return false;
        }
        key = new PublicKey(bytes[..32]);
        error = null;
        return true;
    }

    /// <summary>Verifies an Ed25519 signature (RFC 8032, pure) over the data.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) => Ed25519.Verify(_bytes, data, signature);

    /// <inheritdoc/>
    public bool Equals(PublicKey? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PublicKey);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    /// <summary>The text form.</summary>
    public override string ToString() => Text;

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
