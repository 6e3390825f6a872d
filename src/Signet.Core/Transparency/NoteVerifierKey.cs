using System.Globalization;
using Signet.Keys;

namespace Signet.Transparency;

/// <summary>
/// A note verifier key (vkey), <c>&lt;name&gt;+&lt;hex key id&gt;+&lt;base64(type || public key)&gt;</c>, for Ed25519
/// note signatures (type 0x01) or Ed25519 <c>cosignature/v1</c> checkpoint cosignatures (type 0x04).
/// </summary>
public sealed class NoteVerifierKey : IEquatable<NoteVerifierKey>
{
    /// <summary>The signature type of Ed25519 note signatures.</summary>
    public const byte Ed25519Type = 0x01;

    /// <summary>The signature type of timestamped Ed25519 checkpoint cosignatures (<c>cosignature/v1</c>).</summary>
    public const byte CosignatureType = 0x04;

    private NoteVerifierKey(string name, byte type, PublicKey publicKey)
    {
        Name = name;
        Type = type;
        PublicKey = publicKey;
        KeyId = NoteText.KeyId(name, type, publicKey.Bytes);
    }

    /// <summary>The key name, as it appears in signature lines.</summary>
    public string Name { get; }

    /// <summary>The key id: the first four bytes of SHA-256(name || 0x0A || type || public key), big-endian.</summary>
    public uint KeyId { get; }

    /// <summary>The signature type: <see cref="Ed25519Type"/> or <see cref="CosignatureType"/>.</summary>
    public byte Type { get; }

    /// <summary>The Ed25519 public key.</summary>
    public PublicKey PublicKey { get; }

    /// <summary>The vkey of a key that makes Ed25519 note signatures (type 0x01), such as a log's.</summary>
    public static NoteVerifierKey ForSignatures(string name, PublicKey key) => Create(name, Ed25519Type, key);

    /// <summary>The vkey of a witness that makes <c>cosignature/v1</c> cosignatures (type 0x04).</summary>
    public static NoteVerifierKey ForCosignatures(string name, PublicKey key) => Create(name, CosignatureType, key);

    /// <summary>Parses a vkey; throws <see cref="NoteFormatException"/> saying what is wrong.</summary>
    public static NoteVerifierKey Parse(string vkey) =>
        TryParse(vkey, out var key, out var error) ? key : throw new NoteFormatException("verifier key", 0, error);

    /// <summary>Parses a vkey without throwing; <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? vkey, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NoteVerifierKey? key,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        key = null;
        if (string.IsNullOrEmpty(vkey))
        {
            error = "empty verifier key";
            return false;
        }
        var first = vkey.IndexOf('+');
        var second = first < 0 ? -1 : vkey.IndexOf('+', first + 1);
        if (second < 0)
        {
            error = $"verifier key {NoteText.Quote(vkey)} is not <name>+<hex key id>+<base64 key>";
            return false;
        }
        var name = vkey[..first];
        var hex = vkey[(first + 1)..second];
        var b64 = vkey[(second + 1)..];
        var problem = NoteText.KeyNameProblem(name);
        if (problem is not null)
        {
            error = $"verifier key {NoteText.Quote(vkey)}: {problem}";
            return false;
        }
        if (hex.Length != 8 || hex.Any(c => c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f'))))
        {
            error = $"verifier key {NoteText.Quote(vkey)}: the key id {NoteText.Quote(hex)} is not 8 lowercase hex digits";
            return false;
        }
        if (!NoteText.TryDecodeBase64(b64, out var material) || material.Length == 0)
        {
            error = $"verifier key {NoteText.Quote(vkey)}: the key is not standard padded base64";
            return false;
        }
        var type = material[0];
        if (type is not (Ed25519Type or CosignatureType))
        {
            error = $"verifier key {NoteText.Quote(vkey)}: signature type 0x{type:x2} is not supported (0x01 Ed25519, 0x04 cosignature/v1)";
            return false;
        }
        if (material.Length != 33)
        {
            error = $"verifier key {NoteText.Quote(vkey)}: an Ed25519 key is 32 bytes after the type byte, not {material.Length - 1}";
            return false;
        }
        var candidate = new NoteVerifierKey(name, type, new PublicKey(material.AsSpan(1)));
        var id = uint.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        if (candidate.KeyId != id)
        {
            error = $"verifier key {NoteText.Quote(vkey)}: the key id {hex} does not match the name and key (expected {candidate.KeyId:x8})";
            return false;
        }
        key = candidate;
        error = null;
        return true;
    }

    /// <summary>Whether a signature line names this key (same name and key id).</summary>
    public bool Matches(NoteSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        return signature.KeyId == KeyId && string.Equals(signature.KeyName, Name, StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether the signature is by this key (same name and key id) and verifies over the note text: an Ed25519
    /// signature for type 0x01, a <c>cosignature/v1</c> for type 0x04 (the text then being a checkpoint).
    /// </summary>
    public bool Verify(string text, NoteSignature signature)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(signature);
        return Type == CosignatureType ? Cosignature.Verify(this, text, signature, out _) : NoteSigner.Verify(this, text, signature);
    }

    /// <summary>The vkey text.</summary>
    public override string ToString()
    {
        var material = new byte[33];
        material[0] = Type;
        PublicKey.Bytes.CopyTo(material.AsSpan(1));
        return $"{Name}+{KeyId:x8}+{Convert.ToBase64String(material)}";
    }

    /// <inheritdoc/>
    public bool Equals(NoteVerifierKey? other) =>
        other is not null && Name == other.Name && Type == other.Type && PublicKey.Equals(other.PublicKey);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as NoteVerifierKey);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Name, Type, PublicKey);

    private static NoteVerifierKey Create(string name, byte type, PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var problem = NoteText.KeyNameProblem(name);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(name));
        }
        return new NoteVerifierKey(name, type, key);
    }
}
