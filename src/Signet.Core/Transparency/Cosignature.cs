using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Signet.Keys;

namespace Signet.Transparency;

/// <summary>
/// Ed25519 <c>cosignature/v1</c> checkpoint cosignatures (C2SP tlog-cosignature, signature type 0x04): a witness's
/// timestamped statement that the checkpoint is the largest consistent tree it has seen for the origin.
/// </summary>
/// <remarks>
/// The signed message is <c>cosignature/v1\ntime &lt;POSIX seconds&gt;\n</c> followed by the checkpoint text; the
/// signature is the 8-byte big-endian timestamp and the 64-byte Ed25519 signature.
/// </remarks>
public static class Cosignature
{
    private const int SignatureLength = 8 + 64;

    /// <summary>Cosigns a checkpoint text at the given time (whole seconds; the fraction is dropped).</summary>
    public static NoteSignature Sign(string cosignerName, ISigner key, string checkpointText, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(checkpointText);
        var vkey = NoteVerifierKey.ForCosignatures(cosignerName, key.PublicKey);
        Checkpoint.Parse(checkpointText);
        var seconds = time.ToUnixTimeSeconds();
        if (seconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, "a cosignature time is not before 1970");
        }
        var signature = new byte[SignatureLength];
        BinaryPrimitives.WriteUInt64BigEndian(signature, (ulong)seconds);
        key.Sign(Message(checkpointText, (ulong)seconds)).CopyTo(signature, 8);
        return new NoteSignature(vkey.Name, vkey.KeyId, signature);
    }

    /// <summary>
    /// Whether the signature is a valid <c>cosignature/v1</c> by the key (type 0x04, same name and key id) over the
    /// checkpoint text; <paramref name="time"/> is the time it states.
    /// </summary>
    public static bool Verify(NoteVerifierKey key, string checkpointText, NoteSignature signature, out DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(checkpointText);
        ArgumentNullException.ThrowIfNull(signature);
        time = default;
        var bytes = signature.SignatureSpan;
        if (key.Type != NoteVerifierKey.CosignatureType || !key.Matches(signature) || bytes.Length != SignatureLength)
        {
            return false;
        }
        var seconds = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        // DateTimeOffset ends in year 9999; a later time (still a valid u64 below 2^63) cannot be represented.
        if (seconds > (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return false;
        }
        if (!key.PublicKey.Verify(Message(checkpointText, seconds), bytes[8..]))
        {
            return false;
        }
        time = DateTimeOffset.FromUnixTimeSeconds((long)seconds);
        return true;
    }

    private static byte[] Message(string checkpointText, ulong seconds) =>
        Encoding.UTF8.GetBytes("cosignature/v1\ntime " + seconds.ToString(CultureInfo.InvariantCulture) + "\n" + checkpointText);
}
