using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Signet.Cli.Agent;

/// <summary>
/// What the signer agent did, one JSON object per line: to stderr, and to <c>--log FILE</c> (appended, fsynced before the
/// signature is returned, so a signature the agent made is on the disk before anyone holds it).
/// </summary>
/// <remarks>
/// Each line has <c>time</c> and <c>event</c> (<c>start</c>, <c>sign</c>, <c>refuse</c>, <c>peer-refused</c>, <c>lock</c>,
/// <c>unlock</c>, <c>unlock-failed</c>, <c>stop</c>), the peer's <c>pid</c> and <c>uid</c> where there is one, and for a
/// signature its <c>kind</c>, the <c>sha256</c> of the signed bytes, and for a receipt its <c>receipt_id</c> and
/// <c>tool</c>. Never a passphrase, PIN or key. Thread-safe.
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class AgentLog : IDisposable
{
    private readonly TextWriter _stderr;
    private readonly FileStream? _file;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    public AgentLog(TextWriter stderr, string? path, TimeProvider time)
    {
        _stderr = stderr;
        _time = time;
        if (path is not null)
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.Read,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            _file = new FileStream(path, options);
        }
    }

    /// <summary>Writes one event; <paramref name="members"/> adds its fields after <c>time</c> and <c>event</c>.</summary>
    /// <exception cref="IOException">The log file cannot be written (the agent then refuses to sign).</exception>
    public void Write(string name, AgentPeer? peer, Action<Utf8JsonWriter>? members = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("time", _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteString("event", name);
            if (peer is { } p)
            {
                w.WriteNumber("pid", p.Pid);
                w.WriteNumber("uid", p.Uid);
            }
            members?.Invoke(w);
            w.WriteEndObject();
        }
        buffer.Write("\n"u8);
        lock (_gate)
        {
            if (_file is not null)
            {
                _file.Write(buffer.WrittenSpan);
                _file.Flush(flushToDisk: true);
            }
            try
            {
                _stderr.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
                _stderr.Flush();
            }
            catch (IOException)
            {
                // stderr closed (a detached agent): the file, if any, still has the line.
            }
        }
    }

    public void Dispose() => _file?.Dispose();
}

/// <summary>The process at the other end of a connection, from SO_PEERCRED.</summary>
internal readonly record struct AgentPeer(int Pid, uint Uid, uint Gid);
