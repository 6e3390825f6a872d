using System.Threading.Channels;

namespace Signet.Bridge.Sessions;

/// <summary>
/// The messages bound for one HTTP response: a POST's answers (with the progress and server messages sent while
/// they run) or a session's GET stream. It completes when every request of the POST has its answer.
/// </summary>
internal sealed class ResponseStream
{
    private readonly Channel<byte[]> channel = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private int remaining;
    private volatile bool detached;

    public ResponseStream(int requests, bool isGetStream)
    {
        remaining = requests;
        IsGetStream = isGetStream;
    }

    /// <summary>True for the session's server-to-client (GET) stream.</summary>
    public bool IsGetStream { get; }

    /// <summary>False once the client went away or the stream completed; server messages then go elsewhere.</summary>
    public bool IsOpen => !detached;

    public ChannelReader<byte[]> Reader => channel.Reader;

    /// <summary>Queues a message that is not an answer (progress, a log message, a server request).</summary>
    public bool TrySend(byte[] message) => !detached && channel.Writer.TryWrite(message);

    /// <summary>Queues the answer to one of the POST's requests; the last answer completes the stream.</summary>
    public void Answer(byte[] response)
    {
        channel.Writer.TryWrite(response);
        if (Interlocked.Decrement(ref remaining) <= 0)
        {
            detached = true;
            channel.Writer.TryComplete();
        }
    }

    /// <summary>Counts one of the POST's requests as done without an answer (the client cancelled it).</summary>
    public void Skip()
    {
        if (Interlocked.Decrement(ref remaining) <= 0)
        {
            detached = true;
            channel.Writer.TryComplete();
        }
    }

    /// <summary>Stops taking messages (the client disconnected, or the session ended).</summary>
    public void Close()
    {
        detached = true;
        channel.Writer.TryComplete();
    }
}
