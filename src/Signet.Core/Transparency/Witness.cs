using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Audit;
using Signet.Keys;

namespace Signet.Transparency;

/// <summary>
/// A transparency-log witness (C2SP tlog-witness): it cosigns a log's checkpoint only when the checkpoint is signed by
/// a log key it trusts and is a consistent extension of the last checkpoint it cosigned for that origin, which it keeps
/// durably (fsync) before it answers. The HTTP side (<c>signet witness serve</c>) only carries bodies to and from
/// <see cref="AddCheckpoint"/> and <see cref="GetCheckpoint"/>.
/// </summary>
/// <remarks>
/// Thread-safe: requests for one origin are checked and stored one at a time (the old size check and the update are
/// atomic); origins are independent. One process owns a state directory (an exclusive lock on <c>witness.lock</c>).
/// A validly signed checkpoint that is refused as inconsistent with what it cosigned (a fork), or as unprocessable, is
/// kept under <c>logs/&lt;origin hash&gt;/refused/</c>: it is the log's own signed evidence of misbehaviour.
/// </remarks>
public sealed partial class Witness : IDisposable
{
    /// <summary>The largest request body accepted: a checkpoint with many signatures and 63 proof lines fit well within it.</summary>
    public const int MaxRequestBytes = 64 * 1024;

    private const string TextContentType = "text/plain; charset=utf-8";

    private readonly string _directory;
    private readonly ISigner _key;
    private readonly Dictionary<string, List<NoteVerifierKey>> _logKeys;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AuditFileLock _lock;
    private readonly Dictionary<string, OriginState> _origins = new(StringComparer.Ordinal);

    private Witness(string directory, string name, ISigner key, Dictionary<string, List<NoteVerifierKey>> logKeys, TimeProvider time, ILogger logger, AuditFileLock fileLock)
    {
        _directory = directory;
        Name = name;
        _key = key;
        _logKeys = logKeys;
        _time = time;
        _logger = logger;
        _lock = fileLock;
        VerifierKey = NoteVerifierKey.ForCosignatures(name, key.PublicKey);
    }

    /// <summary>The cosigner name in the signature lines.</summary>
    public string Name { get; }

    /// <summary>The verifier key (type 0x04, cosignature/v1) a log or an auditor configures to trust this witness.</summary>
    public NoteVerifierKey VerifierKey { get; }

    /// <summary>The origins this witness cosigns for (the names of the log keys it was given).</summary>
    public IReadOnlyCollection<string> Origins => _logKeys.Keys;

    /// <summary>
    /// Opens the witness state in <paramref name="stateDirectory"/> (created 0700 if missing) and takes its lock.
    /// Each log key's name is the origin it signs checkpoints for (as Signet's logs do).
    /// </summary>
    /// <exception cref="SignetException">No log key was given, a key is not an Ed25519 signature key, or another process holds the state directory.</exception>
    public static Witness Open(string stateDirectory, string name, ISigner key, IEnumerable<NoteVerifierKey> logKeys, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(logKeys);
        var byOrigin = new Dictionary<string, List<NoteVerifierKey>>(StringComparer.Ordinal);
        foreach (var logKey in logKeys)
        {
            if (logKey.Type != NoteVerifierKey.Ed25519Type)
            {
                throw new SignetException($"log key {logKey} is not an Ed25519 note key (type 0x01): give the log's verifier key, as 'signet log checkpoint --verifier-key' prints it");
            }
            if (!byOrigin.TryGetValue(logKey.Name, out var list))
            {
                byOrigin[logKey.Name] = list = [];
            }
            list.Add(logKey);
        }
        if (byOrigin.Count == 0)
        {
            throw new SignetException("a witness needs at least one log key to cosign for ('--log VKEY', as 'signet log checkpoint --verifier-key' prints it)");
        }
        var full = Path.GetFullPath(stateDirectory);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(full);
        }
        else
        {
            Directory.CreateDirectory(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var fileLock = new AuditFileLock(Path.Combine(full, "witness.lock"));
        if (!fileLock.TryAcquire())
        {
            fileLock.Dispose();
            throw new SignetException($"another witness process is using the state directory {full} (witness.lock is held); stop it or give another --state directory");
        }
        return new Witness(full, name, key, byOrigin, time ?? TimeProvider.System, logger ?? NullLogger.Instance, fileLock);
    }

    /// <summary>The lowercase hex SHA-256 of an origin: the name of its folder, and of its monitoring URL path.</summary>
    public static string OriginHash(string origin) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(origin)));

    /// <summary>
    /// Handles an add-checkpoint request body: 200 with the cosignature line, 400 (malformed, old size above the new
    /// one), 403 (no valid signature of a trusted log key), 404 (unknown origin), 409 with the size last cosigned
    /// (the old size does not match it), 422 (the proof does not verify, or equal sizes with different roots).
    /// </summary>
    public WitnessResponse AddCheckpoint(ReadOnlySpan<byte> body)
    {
        if (body.Length > MaxRequestBytes)
        {
            return Text(400, $"the request body is larger than {MaxRequestBytes} bytes");
        }
        AddCheckpointBody request;
        try
        {
            request = AddCheckpointRequest.Parse(Encoding.UTF8.GetString(body));
        }
        catch (SignetException e)
        {
            return Text(400, e.Message);
        }
        var checkpoint = request.Checkpoint.Checkpoint;
        if (!_logKeys.TryGetValue(checkpoint.Origin, out var keys))
        {
            LogUnknownOrigin(_logger, checkpoint.Origin);
            return Text(404, $"unknown log origin \"{checkpoint.Origin}\": this witness cosigns only for {string.Join(", ", _logKeys.Keys)}");
        }
        if (VerifyLogSignature(request.Checkpoint, keys) is { } refused)
        {
            LogForbidden(_logger, checkpoint.Origin, refused);
            return Text(403, refused);
        }
        if (request.OldSize > checkpoint.Size)
        {
            return Text(400, $"old size {request.OldSize} is above the checkpoint's size {checkpoint.Size}");
        }

        var state = StateOf(checkpoint.Origin);
        lock (state)
        {
            state.Load();
            if (request.OldSize != state.Size)
            {
                // Not evidence by itself: another process of the same log may publish an older checkpoint late.
                return new WitnessResponse(409, AddCheckpointRequest.SizeContentType, AddCheckpointRequest.FormatConflict(state.Size));
            }
            if (request.UnprocessableReason is { } unprocessable)
            {
                Refused(request.Checkpoint, "unprocessable", unprocessable);
                return Text(422, unprocessable);
            }
            if (request.OldSize == checkpoint.Size)
            {
                if (state.Root is not null && !state.Root.AsSpan().SequenceEqual(checkpoint.RootHash))
                {
                    Refused(request.Checkpoint, "fork", $"size {checkpoint.Size} with a root other than the one this witness cosigned");
                    LogFork(_logger, checkpoint.Origin, checkpoint.Size, "same size, different root");
                    return Text(422, $"fork: this witness cosigned size {state.Size} with root {Convert.ToBase64String(state.Root)}, not {Convert.ToBase64String(checkpoint.RootHash)}");
                }
            }
            else if (request.OldSize > 0)
            {
                try
                {
                    MerkleTree.VerifyConsistency(request.OldSize, checkpoint.Size, state.Root!, checkpoint.RootHash, request.ConsistencyProof);
                }
                catch (ProofException e)
                {
                    Refused(request.Checkpoint, "fork", e.Message);
                    LogFork(_logger, checkpoint.Origin, checkpoint.Size, e.Message);
                    return Text(422, $"the checkpoint of size {checkpoint.Size} is not a consistent extension of size {state.Size} this witness cosigned: {e.Message}");
                }
            }

            var cosignature = Cosignature.Sign(Name, _key, request.Checkpoint.Note.Text, _time.GetUtcNow());
            var stored = request.Checkpoint.Note.WithSignatures([cosignature]);
            try
            {
                state.Store(checkpoint.Size, checkpoint.RootHash, stored.ToString());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogStoreFailed(_logger, checkpoint.Origin, e.Message);
                return Text(500, "the witness could not store the checkpoint durably; nothing was cosigned");
            }
            LogCosigned(_logger, checkpoint.Origin, checkpoint.Size);
            return new WitnessResponse(200, TextContentType, AddCheckpointRequest.FormatResponse([cosignature]));
        }
    }

    /// <summary>The latest checkpoint this witness cosigned for the origin with that hash (log signature and cosignature), or null.</summary>
    public string? GetCheckpoint(string originHash)
    {
        foreach (var origin in _logKeys.Keys)
        {
            if (string.Equals(OriginHash(origin), originHash, StringComparison.Ordinal))
            {
                var state = StateOf(origin);
                lock (state)
                {
                    state.Load();
                    return state.Note;
                }
            }
        }
        return null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _lock.Release();
        _lock.Dispose();
    }

    private static string? VerifyLogSignature(SignedCheckpoint checkpoint, List<NoteVerifierKey> keys)
    {
        string? failure = null;
        foreach (var key in keys)
        {
            try
            {
                checkpoint.Verify(key);
                return null;
            }
            catch (CheckpointVerificationException e)
            {
                failure = e.Message;
            }
        }
        return $"the checkpoint is not signed by a trusted key for \"{checkpoint.Checkpoint.Origin}\": {failure}";
    }

    private static WitnessResponse Text(int status, string message) => new(status, TextContentType, message + "\n");

    private OriginState StateOf(string origin)
    {
        lock (_origins)
        {
            if (!_origins.TryGetValue(origin, out var state))
            {
                _origins[origin] = state = new OriginState(Path.Combine(_directory, "logs", OriginHash(origin)), origin);
            }
            return state;
        }
    }

    /// <summary>Keeps a validly signed checkpoint the witness refused: the log signed something inconsistent.</summary>
    private void Refused(SignedCheckpoint checkpoint, string kind, string reason)
    {
        var folder = Path.Combine(_directory, "logs", OriginHash(checkpoint.Checkpoint.Origin), "refused");
        var name = string.Create(CultureInfo.InvariantCulture, $"{_time.GetUtcNow():yyyyMMddTHHmmssfffZ}-{kind}-{checkpoint.Checkpoint.Size}.checkpoint");
        try
        {
            DurableFile.Replace(Path.Combine(folder, name), Encoding.UTF8.GetBytes($"# {reason}\n{checkpoint.Note}"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogStoreFailed(_logger, checkpoint.Checkpoint.Origin, e.Message);
        }
    }

    /// <summary>What the witness keeps per origin: the latest cosigned checkpoint, in memory and in one file.</summary>
    private sealed class OriginState(string folder, string origin)
    {
        private bool _loaded;

        public long Size { get; private set; }

        public byte[]? Root { get; private set; }

        public string? Note { get; private set; }

        private string FilePath => Path.Combine(folder, "checkpoint");

        public void Load()
        {
            if (_loaded)
            {
                return;
            }
            if (File.Exists(FilePath))
            {
                var text = File.ReadAllText(FilePath);
                SignedCheckpoint stored;
                try
                {
                    stored = SignedCheckpoint.Parse(text);
                }
                catch (SignetException e)
                {
                    throw new SignetException($"the witness state {FilePath} is damaged ({e.Message}); restore it from a backup: deleting it would let the log roll back", e);
                }
                if (!string.Equals(stored.Checkpoint.Origin, origin, StringComparison.Ordinal))
                {
                    throw new SignetException($"the witness state {FilePath} holds a checkpoint for \"{stored.Checkpoint.Origin}\", not \"{origin}\"");
                }
                Size = stored.Checkpoint.Size;
                Root = stored.Checkpoint.RootHash;
                Note = text;
            }
            _loaded = true;
        }

        public void Store(long size, byte[] root, string note)
        {
            DurableFile.Replace(FilePath, Encoding.UTF8.GetBytes(note));
            Size = size;
            Root = root;
            Note = note;
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Cosigned {Origin} at size {Size}")]
    private static partial void LogCosigned(ILogger logger, string origin, long size);

    [LoggerMessage(2, LogLevel.Warning, "Refused a checkpoint for unknown origin {Origin}")]
    private static partial void LogUnknownOrigin(ILogger logger, string origin);

    [LoggerMessage(3, LogLevel.Warning, "Refused a checkpoint for {Origin}: {Reason}")]
    private static partial void LogForbidden(ILogger logger, string origin, string reason);

    [LoggerMessage(4, LogLevel.Critical, "FORK: {Origin} signed a checkpoint of size {Size} that is inconsistent with the one this witness cosigned ({Reason}); kept under refused/")]
    private static partial void LogFork(ILogger logger, string origin, long size, string reason);

    [LoggerMessage(5, LogLevel.Error, "Could not store witness state for {Origin}: {Reason}")]
    private static partial void LogStoreFailed(ILogger logger, string origin, string reason);
}

/// <summary>A witness's answer: the HTTP status, the content type and the body.</summary>
public sealed record WitnessResponse(int StatusCode, string ContentType, string Body);
