using System.Buffers.Binary;

namespace Signet.Transparency;

/// <summary>One signature line of a signed note: <c>— &lt;key name&gt; base64(key id || signature)</c>.</summary>
public sealed class NoteSignature : IEquatable<NoteSignature>
{
    private readonly byte[] _signature;

    /// <summary>Creates a signature line; the key name must be non-empty, without spaces or '+'.</summary>
    public NoteSignature(string keyName, uint keyId, ReadOnlySpan<byte> signature)
    {
        var problem = NoteText.KeyNameProblem(keyName);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(keyName));
        }
        if (signature.IsEmpty)
        {
            throw new ArgumentException("a note signature has at least one byte after the key id", nameof(signature));
        }
        KeyName = keyName;
        KeyId = keyId;
        _signature = signature.ToArray();
    }

    /// <summary>The name of the key that signed.</summary>
    public string KeyName { get; }

    /// <summary>The 32-bit key id that, with the name, identifies the key and its signature type.</summary>
    public uint KeyId { get; }

    /// <summary>The signature bytes after the 4-byte key id (a copy).</summary>
    public byte[] Signature => (byte[])_signature.Clone();

    internal ReadOnlySpan<byte> SignatureSpan => _signature;

    /// <summary>The signature line, without its newline.</summary>
    public string ToLine()
    {
        var bytes = new byte[4 + _signature.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, KeyId);
        _signature.CopyTo(bytes, 4);
        return NoteText.SignaturePrefix + KeyName + " " + Convert.ToBase64String(bytes);
    }

    /// <summary>Parses one signature line (without its newline).</summary>
    public static NoteSignature ParseLine(string line) => ParseLine(line, "note signature", 0);

    internal static NoteSignature ParseLine(string line, string what, int lineNumber)
    {
        if (!line.StartsWith(NoteText.SignaturePrefix, StringComparison.Ordinal))
        {
            throw new NoteFormatException(what, lineNumber, $"a signature line starts with an em dash (U+2014) and a space, not {NoteText.Quote(line)}");
        }
        var rest = line[NoteText.SignaturePrefix.Length..];
        var space = rest.IndexOf(' ');
        if (space < 0)
        {
            throw new NoteFormatException(what, lineNumber, "a signature line is \"— <key name> <base64 signature>\": no space after the key name");
        }
        var name = rest[..space];
        var problem = NoteText.KeyNameProblem(name);
        if (problem is not null)
        {
            throw new NoteFormatException(what, lineNumber, problem);
        }
        var b64 = rest[(space + 1)..];
        if (!NoteText.TryDecodeBase64(b64, out var bytes))
        {
            throw new NoteFormatException(what, lineNumber, $"the signature of {NoteText.Quote(name)} is not standard padded base64");
        }
        if (bytes.Length < 5)
        {
            throw new NoteFormatException(what, lineNumber, $"the signature of {NoteText.Quote(name)} is {bytes.Length} bytes; it needs a 4-byte key id and a signature");
        }
        return new NoteSignature(name, BinaryPrimitives.ReadUInt32BigEndian(bytes), bytes.AsSpan(4));
    }

    /// <inheritdoc/>
    public bool Equals(NoteSignature? other) =>
        other is not null && KeyName == other.KeyName && KeyId == other.KeyId && _signature.AsSpan().SequenceEqual(other._signature);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as NoteSignature);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(KeyName, KeyId, _signature.Length, _signature[0], _signature[^1]);

    /// <summary>The signature line.</summary>
    public override string ToString() => ToLine();
}
