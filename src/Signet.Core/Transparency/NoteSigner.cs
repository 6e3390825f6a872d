using System.Text;
using Signet.Keys;

namespace Signet.Transparency;

/// <summary>Makes Ed25519 note signatures (type 0x01) under a key name.</summary>
/// <remarks>The signer does not own the key: the caller disposes it after the signer's last use.</remarks>
public sealed class NoteSigner
{
    private readonly ISigner _key;

    /// <summary>Creates a signer; the name must be non-empty, without spaces or '+'.</summary>
    public NoteSigner(string name, ISigner key)
    {
        ArgumentNullException.ThrowIfNull(key);
        VerifierKey = NoteVerifierKey.ForSignatures(name, key.PublicKey);
        _key = key;
    }

    /// <summary>The key name written in signature lines.</summary>
    public string Name => VerifierKey.Name;

    /// <summary>The key id written in signatures.</summary>
    public uint KeyId => VerifierKey.KeyId;

    /// <summary>The vkey that verifies this signer's signatures.</summary>
    public NoteVerifierKey VerifierKey { get; }

    /// <summary>Signs a note text (ending in a newline, no control characters but newline).</summary>
    public NoteSignature Sign(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var problem = SignedNote.TextProblem(text, out var line);
        if (problem is not null)
        {
            throw new ArgumentException($"invalid note text: line {line}: {problem}", nameof(text));
        }
        return new NoteSignature(Name, KeyId, _key.Sign(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Whether an Ed25519 note signature by this key verifies over the text.</summary>
    internal static bool Verify(NoteVerifierKey key, string text, NoteSignature signature) =>
        key.Type == NoteVerifierKey.Ed25519Type && key.Matches(signature)
        && key.PublicKey.Verify(Encoding.UTF8.GetBytes(text), signature.SignatureSpan);
}
