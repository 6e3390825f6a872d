using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text.Json;

namespace Signet.Keys;

/// <summary>
/// The signer agent's wire format: frames of a 4-byte big-endian length and that many bytes of UTF-8 JSON, one request
/// answered by one response on a connection, in order. Requests are <c>{"v":1,"op":…}</c>; responses
/// <c>{"v":1,"ok":true,…}</c> or <c>{"v":1,"ok":false,"error":CODE,"message":…}</c>.
/// </summary>
internal static class AgentProtocol
{
    /// <summary>The protocol version, in every request and response.</summary>
    public const int Version = 1;

    /// <summary>The largest frame either side accepts: a receipt signable carries the call's arguments.</summary>
    public const int MaxFrame = 16 * 1024 * 1024;

    /// <summary>The environment variable that names the agent's socket.</summary>
    public const string SocketEnvironmentVariable = "SIGNET_AGENT_SOCK";

    /// <summary>Error codes.</summary>
    public const string Locked = "locked";
    public const string Refused = "refused";
    public const string PeerRefused = "peer-refused";
    public const string BadRequest = "bad-request";
    public const string UnlockFailed = "unlock-failed";
    public const string Failed = "failed";

    /// <summary>Writes a request <c>{"v":1,"op":OP}</c> plus the members <paramref name="members"/> writes.</summary>
    public static byte[] Request(string op, Action<Utf8JsonWriter>? members = null) => Frame(w =>
    {
        w.WriteNumber("v", Version);
        w.WriteString("op", op);
        members?.Invoke(w);
    });

    /// <summary>A successful response with the given members.</summary>
    public static byte[] Ok(Action<Utf8JsonWriter>? members = null) => Frame(w =>
    {
        w.WriteNumber("v", Version);
        w.WriteBoolean("ok", true);
        members?.Invoke(w);
    });

    /// <summary>A failed response.</summary>
    public static byte[] Error(string code, string message) => Frame(w =>
    {
        w.WriteNumber("v", Version);
        w.WriteBoolean("ok", false);
        w.WriteString("error", code);
        w.WriteString("message", message);
    });

    /// <summary>A whole frame (length prefix included) holding one JSON object.</summary>
    private static byte[] Frame(Action<Utf8JsonWriter> members)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        buffer.GetSpan(4);
        buffer.Advance(4);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            members(w);
            w.WriteEndObject();
        }
        var frame = buffer.WrittenSpan.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        return frame;
    }

    /// <summary>Reads one frame's JSON body; null when the peer closed the connection between frames.</summary>
    /// <exception cref="InvalidDataException">The frame is larger than <see cref="MaxFrame"/>, or the connection ended inside one.</exception>
    public static byte[]? Read(Socket socket)
    {
        Span<byte> header = stackalloc byte[4];
        if (!Fill(socket, header, allowEnd: true))
        {
            return null;
        }
        var body = new byte[CheckLength(BinaryPrimitives.ReadInt32BigEndian(header))];
        Fill(socket, body, allowEnd: false);
        return body;
    }

    /// <summary>Sends a whole frame.</summary>
    public static void Write(Socket socket, ReadOnlySpan<byte> frame)
    {
        while (!frame.IsEmpty)
        {
            frame = frame[socket.Send(frame)..];
        }
    }

    private static int CheckLength(int length) => length is < 2 or > MaxFrame
        ? throw new InvalidDataException($"a frame of {length} bytes (the protocol allows 2 to {MaxFrame})")
        : length;

    private static bool Fill(Socket socket, Span<byte> buffer, bool allowEnd)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = socket.Receive(buffer[filled..]);
            if (n == 0)
            {
                if (filled == 0 && allowEnd)
                {
                    return false;
                }
                throw new InvalidDataException("the connection ended inside a frame");
            }
            filled += n;
        }
        return true;
    }
}
