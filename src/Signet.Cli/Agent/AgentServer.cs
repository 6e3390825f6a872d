using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Cli.Agent;

/// <summary>
/// The signer agent's listener: a Unix domain socket on which each connection, once its peer credentials pass, sends
/// requests (<see cref="AgentProtocol"/>) answered in order. Connections are served concurrently.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class AgentServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly AgentKey _key;
    private readonly AgentLog _log;
    private readonly IReadOnlySet<uint> _allowedUids;
    private readonly uint _ownUid;
    private readonly DateTimeOffset _started;
    private readonly List<Task> _connections = [];
    private long _signatures;
    private long _refusals;

    private AgentServer(string path, Socket listener, AgentKey key, AgentLog log, IReadOnlySet<uint> allowedUids, DateTimeOffset started)
    {
        SocketPath = path;
        _listener = listener;
        _key = key;
        _log = log;
        _allowedUids = allowedUids;
        _ownUid = UnixCalls.EffectiveUid;
        _started = started;
    }

    public string SocketPath { get; }

    /// <summary>
    /// Binds the socket: creates a missing parent folder 0700 (0711 when other uids are allowed, so they can reach the
    /// socket), replaces a stale socket that no agent answers on, refuses a live one, and makes the socket 0600 (0666
    /// when other uids are allowed: the peer-credential check is then the gate, and connect(2) needs write permission).
    /// </summary>
    /// <exception cref="SignetException">Another agent listens there, the path is not a socket, or it cannot be bound.</exception>
    public static AgentServer Listen(string path, AgentKey key, AgentLog log, IReadOnlySet<uint> allowedUids, TimeProvider time)
    {
        var shared = allowedUids.Any(uid => uid != UnixCalls.EffectiveUid);
        if (System.Text.Encoding.UTF8.GetByteCount(path) > 107)
        {
            throw new SignetException($"the socket path {path} is longer than the 107 bytes a Unix socket address holds: choose a shorter --socket");
        }
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Directory.CreateDirectory(directory, shared ? mode | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute : mode);
        }
        RemoveStale(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, shared
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(64);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new SignetException($"cannot listen on {path}: {e.Message}", e);
        }
        return new AgentServer(path, listener, key, log, allowedUids, time.GetUtcNow());
    }

    private static void RemoveStale(string path)
    {
        var owner = UnixCalls.Owner(path);
        if (owner is null)
        {
            return;
        }
        if (!owner.Value.IsSocket)
        {
            throw new SignetException($"{path} exists and is not a socket: choose another --socket, or remove the file if it is not needed");
        }
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                var pid = UnixCalls.PeerCredentials(probe).Pid;
                throw new SignetException(
                    $"a signer agent is already listening on {path} (pid {pid}): use it (export SIGNET_AGENT_SOCK={path}), stop it (kill {pid}), or choose another --socket");
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                // Nobody listens: a socket left by an agent that died without cleaning up.
            }
        }
        File.Delete(path);
    }

    /// <summary>Serves until <paramref name="stop"/> is cancelled, then closes the listener and removes the socket.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (true)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptAsync(stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                lock (_connections)
                {
                    _connections.RemoveAll(t => t.IsCompleted);
                    _connections.Add(Task.Factory.StartNew(() => Serve(client, stop), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
                }
            }
        }
        finally
        {
            await DisposeAsync();
        }
    }

    /// <summary>
    /// Serves one connection with blocking calls on a thread of its own: a signature is a short request and answer, and a
    /// blocking read answers it without the thread-pool hops of an asynchronous one (connections are few: a proxy's
    /// pool). Stopping closes the socket, which ends a read in progress.
    /// </summary>
    private void Serve(Socket socket, CancellationToken stop)
    {
        using var _ = socket;
        using var closeOnStop = stop.Register(socket.Dispose);
        AgentPeer peer;
        try
        {
            var (pid, uid, gid) = UnixCalls.PeerCredentials(socket);
            peer = new AgentPeer(pid, uid, gid);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return;
        }
        try
        {
            if (peer.Uid != _ownUid && !_allowedUids.Contains(peer.Uid))
            {
                _log.Write("peer-refused", peer);
                AgentProtocol.Write(socket, AgentProtocol.Error(AgentProtocol.PeerRefused,
                    $"this agent serves uid {_ownUid}{string.Concat(_allowedUids.Select(u => ", " + u))}, not uid {peer.Uid} (pid {peer.Pid}): start the agent with --allow-uid {peer.Uid} to let it sign"));
                return;
            }
            while (AgentProtocol.Read(socket) is { } request)
            {
                AgentProtocol.Write(socket, Handle(request, peer));
            }
        }
        catch (InvalidDataException e)
        {
            try
            {
                AgentProtocol.Write(socket, AgentProtocol.Error(AgentProtocol.BadRequest, e.Message));
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client went away, or the agent is stopping.
        }
    }

    /// <summary>Answers one request.</summary>
    internal byte[] Handle(byte[] body, AgentPeer peer)
    {
        string? op;
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("v", out var v) || v.ValueKind != JsonValueKind.Number)
            {
                return AgentProtocol.Error(AgentProtocol.BadRequest, "a request is a JSON object with a protocol version v");
            }
            if (!v.TryGetInt32(out var version) || version != AgentProtocol.Version)
            {
                return AgentProtocol.Error(AgentProtocol.BadRequest, $"this agent speaks protocol version {AgentProtocol.Version}, not {v}: use a signet of the same version");
            }
            op = root.TryGetProperty("op", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null;
        }
        catch (JsonException e)
        {
            return AgentProtocol.Error(AgentProtocol.BadRequest, "the request is not JSON: " + e.Message);
        }
        return op switch
        {
            "info" => AgentProtocol.Ok(WriteInfo),
            "status" => AgentProtocol.Ok(WriteStatus),
            "sign" => Sign(root, peer),
            "lock" => Lock(peer),
            "unlock" => Unlock(root, peer),
            _ => AgentProtocol.Error(AgentProtocol.BadRequest, $"unknown op \"{op}\" (info, status, sign, lock, unlock)"),
        };
    }

    private void WriteInfo(Utf8JsonWriter w)
    {
        w.WriteString("pubkey", _key.PublicKey.Text);
        w.WriteString("name", _key.Name);
        w.WriteString("owner", _key.Owner);
        w.WriteString("key", _key.Source);
        w.WriteString("kind", _key.Kind);
        w.WriteString("secret", _key.Secret);
        w.WriteString("description", _key.Description);
        w.WriteBoolean("locked", _key.IsLocked);
    }

    private void WriteStatus(Utf8JsonWriter w)
    {
        WriteInfo(w);
        w.WriteNumber("pid", Environment.ProcessId);
        w.WriteString("socket", SocketPath);
        w.WriteString("started_at", _started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteNumber("signatures", Interlocked.Read(ref _signatures));
        w.WriteNumber("refusals", Interlocked.Read(ref _refusals));
        w.WriteStartArray("allowed_uids");
        w.WriteNumberValue(_ownUid);
        foreach (var uid in _allowedUids.Where(u => u != _ownUid).Order())
        {
            w.WriteNumberValue(uid);
        }
        w.WriteEndArray();
    }

    private byte[] Sign(JsonElement request, AgentPeer peer)
    {
        if (!request.TryGetProperty("data", out var d) || d.ValueKind != JsonValueKind.String || !d.TryGetBytesFromBase64(out var data))
        {
            return AgentProtocol.Error(AgentProtocol.BadRequest, "sign needs data: the bytes to sign in base64");
        }
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(data));
        var what = AgentSignables.Classify(data, _key.PublicKey);
        if (what.IsRefused)
        {
            Interlocked.Increment(ref _refusals);
            _log.Write("refuse", peer, w =>
            {
                w.WriteString("sha256", sha256);
                w.WriteString("reason", what.Detail);
            });
            return AgentProtocol.Error(AgentProtocol.Refused,
                $"refused to sign: {what.Detail}. The agent signs only Signet receipts, evidence bundle manifests, checkpoints and cosignatures");
        }
        byte[]? signature;
        try
        {
            signature = _key.TrySign(data);
        }
        catch (SignetException e)
        {
            return AgentProtocol.Error(AgentProtocol.Failed, e.Message);
        }
        if (signature is null)
        {
            return AgentProtocol.Error(AgentProtocol.Locked,
                $"the agent is locked: unlock it with signet agent unlock --socket {SocketPath}");
        }
        try
        {
            _log.Write("sign", peer, w =>
            {
                w.WriteString("kind", what.Kind);
                w.WriteString("sha256", sha256);
                if (what.Kind!.StartsWith("receipt-", StringComparison.Ordinal))
                {
                    w.WriteString("receipt_id", ReceiptText.ReceiptId(signature));
                    w.WriteString("tool", what.Tool);
                }
                if (what.CoSignedReceipt is not null)
                {
                    w.WriteString("co_signs", what.CoSignedReceipt);
                }
                if (what.Detail is not null)
                {
                    w.WriteString("detail", what.Detail);
                }
            });
        }
        catch (IOException e)
        {
            // A signature the log does not show is not handed out.
            return AgentProtocol.Error(AgentProtocol.Failed, $"cannot write the agent's log ({e.Message}); nothing was signed");
        }
        Interlocked.Increment(ref _signatures);
        return AgentProtocol.Ok(w =>
        {
            w.WriteBase64String("sig", signature);
            w.WriteString("kind", what.Kind);
        });
    }

    private byte[] Lock(AgentPeer peer)
    {
        if (peer.Uid != _ownUid)
        {
            return AgentProtocol.Error(AgentProtocol.PeerRefused, $"only uid {_ownUid}, the agent's own, may lock or unlock it");
        }
        var changed = _key.Lock();
        _log.Write("lock", peer, w => w.WriteBoolean("changed", changed));
        return AgentProtocol.Ok(w => w.WriteBoolean("changed", changed));
    }

    private byte[] Unlock(JsonElement request, AgentPeer peer)
    {
        if (peer.Uid != _ownUid)
        {
            return AgentProtocol.Error(AgentProtocol.PeerRefused, $"only uid {_ownUid}, the agent's own, may lock or unlock it");
        }
        var secret = request.TryGetProperty("secret", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        bool changed;
        try
        {
            changed = _key.Unlock(secret);
        }
        catch (SignetException e)
        {
            _log.Write("unlock-failed", peer, w => w.WriteString("reason", e.Message));
            return AgentProtocol.Error(AgentProtocol.UnlockFailed, e.Message);
        }
        _log.Write("unlock", peer, w => w.WriteBoolean("changed", changed));
        return AgentProtocol.Ok(w => w.WriteBoolean("changed", changed));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_listener.SafeHandle.IsClosed)
        {
            _listener.Dispose();
            try
            {
                File.Delete(SocketPath);
            }
            catch (IOException)
            {
            }
        }
        Task[] pending;
        lock (_connections)
        {
            pending = [.. _connections];
        }
        await Task.WhenAll(pending);
    }
}
