using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;

namespace Signet.Keys;

/// <summary>
/// A key held by a signer agent (<c>signet agent</c>) in another process, reached over its Unix domain socket: this
/// process never sees the key, its passphrase or its PIN. The agent signs only Signet signables (receipts, evidence
/// bundle manifests, checkpoints and cosignatures) and logs each signature.
/// </summary>
/// <remarks>
/// Thread-safe: concurrent <see cref="Sign"/> calls each take an idle connection from a small pool, opening one when
/// all are busy, so signatures run in parallel. A pooled connection the agent closed (an agent restarted on the same
/// socket) is replaced once. Before connecting, the socket must belong to this process's uid or to root, and so must
/// the process at the other end (its peer credentials); otherwise the connection is refused. Linux only.
/// </remarks>
public sealed class AgentSigner : ISigner
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentBag<Socket> _idle = [];
    private volatile bool _disposed;

    private AgentSigner(string socketPath) => SocketPath = socketPath;

    /// <summary>The agent's socket.</summary>
    public string SocketPath { get; }

    /// <inheritdoc/>
    public PublicKey PublicKey { get; private set; } = null!;

    /// <summary>The key's name, for receipts' <c>signer.name</c>.</summary>
    public string Name { get; private set; } = "";

    /// <summary>The key's owner, for receipts' <c>signer.owner</c> (<c>""</c> when none).</summary>
    public string Owner { get; private set; } = "";

    /// <summary>What the agent was started with: a key name or a PKCS#11 URI.</summary>
    internal string KeySource { get; private set; } = "";

    /// <inheritdoc/>
    public string Description { get; private set; } = "";

    /// <inheritdoc/>
    /// <remarks>Each signature is a round trip to the agent's process.</remarks>
    public bool SignsOutOfProcess => true;

    /// <summary>Connects to the agent at <paramref name="socketPath"/> and asks which key it holds.</summary>
    /// <exception cref="SignetException">No agent listens there, the socket or the agent belongs to another user, or the agent refuses this process (the message says what to do).</exception>
    public static AgentSigner Connect(string socketPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        var signer = new AgentSigner(Path.GetFullPath(socketPath));
        try
        {
            var info = signer.Call(AgentProtocol.Request("info"));
            signer.PublicKey = PublicKey.Parse(info.GetProperty("pubkey").GetString()!);
            signer.Name = info.GetProperty("name").GetString()!;
            signer.Owner = info.GetProperty("owner").GetString()!;
            signer.KeySource = info.GetProperty("key").GetString()!;
            signer.Description = $"signer agent at {signer.SocketPath} ({info.GetProperty("description").GetString()})";
            return signer;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            signer.Dispose();
            throw new SignetException($"the signer agent at {signer.SocketPath} answered info without a usable key ({e.Message})", e);
        }
        catch
        {
            signer.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    /// <exception cref="SignetException">The agent is gone, locked, or refuses the bytes (they are not a Signet signable, or name another key).</exception>
    public byte[] Sign(ReadOnlySpan<byte> data)
    {
        var bytes = data.ToArray();
        var request = AgentProtocol.Request("sign", w => w.WriteBase64String("data", bytes));
        var response = Call(request);
        var signature = response.TryGetProperty("sig", out var sig) && sig.ValueKind == JsonValueKind.String ? sig.GetBytesFromBase64() : [];
        return signature.Length == 64
            ? signature
            : throw new SignetException($"the signer agent at {SocketPath} answered a signature of {signature.Length} bytes, not 64");
    }

    /// <summary>Sends one request frame and returns the response object of a successful answer.</summary>
    /// <exception cref="SignetException">The agent cannot be reached, or it answered an error (its message).</exception>
    internal JsonElement Call(byte[] request)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (true)
        {
            var reused = _idle.TryTake(out var socket);
            socket ??= Open();
            byte[]? body;
            try
            {
                AgentProtocol.Write(socket, request);
                body = AgentProtocol.Read(socket) ?? throw new IOException("the agent closed the connection");
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
            {
                socket.Dispose();
                if (reused)
                {
                    continue;
                }
                throw new SignetException(
                    $"the signer agent at {SocketPath} stopped answering ({e.Message}): check it is still running (signet agent status --socket {SocketPath})", e);
            }
            JsonElement response;
            try
            {
                using var document = JsonDocument.Parse(body);
                response = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                socket.Dispose();
                throw new SignetException($"the signer agent at {SocketPath} answered something that is not JSON ({e.Message})", e);
            }
            if (response.ValueKind == JsonValueKind.Object && response.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True)
            {
                Return(socket);
                return response;
            }
            var code = response.ValueKind == JsonValueKind.Object && response.TryGetProperty("error", out var c) ? c.GetString() : null;
            var message = response.ValueKind == JsonValueKind.Object && response.TryGetProperty("message", out var m) ? m.GetString() : null;
            if (code == AgentProtocol.PeerRefused)
            {
                socket.Dispose();
            }
            else
            {
                Return(socket);
            }
            throw new SignetException($"signer agent at {SocketPath}: {message ?? "it answered an error without a message"}");
        }
    }

    private void Return(Socket socket)
    {
        if (_disposed)
        {
            socket.Dispose();
            return;
        }
        _idle.Add(socket);
    }

    private Socket Open()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new SignetException("the signer agent runs on Linux only (it relies on SO_PEERCRED): on this system use a key file or a PKCS#11 key");
        }
        var me = UnixCalls.EffectiveUid;
        var owner = UnixCalls.Owner(SocketPath) ?? throw new SignetException(
            $"no signer agent at {SocketPath}: the socket does not exist. Start one with: signet agent --socket {SocketPath} --key NAME " +
            $"(or stop using it: unset {AgentProtocol.SocketEnvironmentVariable}, drop --agent)");
        if (!owner.IsSocket)
        {
            throw new SignetException($"{SocketPath} is not a socket, so no signer agent listens there: check --agent or {AgentProtocol.SocketEnvironmentVariable}");
        }
        if (owner.Uid != me && owner.Uid != 0)
        {
            throw new SignetException(
                $"the agent socket {SocketPath} belongs to uid {owner.Uid}, not to you (uid {me}) or root: whoever runs that agent chooses the key that signs your receipts. " +
                "Refusing to use it; start your own agent (signet agent --key NAME) and point --agent or SIGNET_AGENT_SOCK at its socket");
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
            var peer = UnixCalls.PeerCredentials(socket);
            if (peer.Uid != me && peer.Uid != 0)
            {
                throw new SignetException($"the process listening on {SocketPath} (pid {peer.Pid}) runs as uid {peer.Uid}, not as you (uid {me}) or root: refusing to sign through it");
            }
            socket.ReceiveTimeout = socket.SendTimeout = (int)CallTimeout.TotalMilliseconds;
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => new SignetException(
                    $"no signer agent is listening at {SocketPath}: the socket was left by an agent that exited. Start one with: signet agent --socket {SocketPath} --key NAME (it replaces the stale socket)", e),
                SocketError.AccessDenied => new SignetException(
                    $"permission denied connecting to the signer agent at {SocketPath}: the agent's socket is 0600; start it with --allow-uid {me} to let this user sign", e),
                _ => new SignetException($"cannot connect to the signer agent at {SocketPath}: {e.Message}", e),
            };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Closes the connections; the agent keeps running.</summary>
    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var socket))
        {
            socket.Dispose();
        }
    }

    /// <summary>Shows the socket and public key only.</summary>
    public override string ToString() => $"AgentSigner({SocketPath}, {PublicKey})";
}
