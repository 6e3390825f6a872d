using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Signet.Audit;
using Signet.Keys;

namespace Signet.Transparency;

/// <summary>
/// The signed checkpoints of one audit log: the latest in <c>audit/checkpoint</c> (with the cosignatures witnesses
/// added) and every one ever signed in <c>audit/checkpoints/&lt;size&gt;</c>. A new checkpoint is signed only when it
/// is a consistent extension of the latest: the log never signs two views of its history.
/// </summary>
/// <remarks>
/// Thread-safe and safe across processes (the proxy and the bridge on one home): every change is made under an
/// exclusive lock on <c>checkpoint.lock</c>, and files are replaced with fsync and rename.
/// </remarks>
public sealed class AuditCheckpoints
{
    /// <summary>The latest checkpoint, beside the day files.</summary>
    public const string LatestFileName = "checkpoint";

    /// <summary>The folder holding every checkpoint signed, one file per tree size.</summary>
    public const string HistoryDirectoryName = "checkpoints";

    private readonly string _directory;

    /// <summary>The checkpoints of the log in <paramref name="auditDirectory"/>.</summary>
    public AuditCheckpoints(string auditDirectory)
    {
        _directory = Path.GetFullPath(auditDirectory);
    }

    /// <summary>Told the path of each day file right after it was fsynced before a signature (for tests of that order).</summary>
    internal Action<string>? Synced { get; set; }

    /// <summary>The file holding the latest checkpoint.</summary>
    public string LatestPath => Path.Combine(_directory, LatestFileName);

    /// <summary>The origin a log signed with this key names by default: <c>signet.local/</c> and 16 hex digits of the key's SHA-256.</summary>
    public static string DefaultOrigin(PublicKey logKey)
    {
        ArgumentNullException.ThrowIfNull(logKey);
        return "signet.local/" + Convert.ToHexStringLower(SHA256.HashData(logKey.Bytes)[..8]);
    }

    /// <summary>The latest checkpoint, or null when none was signed yet.</summary>
    /// <exception cref="SignetException">The file exists but is not a checkpoint (the message names it).</exception>
    public SignedCheckpoint? Latest() => Read(LatestPath);

    /// <summary>Every checkpoint in the history, by size.</summary>
    public IReadOnlyList<SignedCheckpoint> History()
    {
        var folder = Path.Combine(_directory, HistoryDirectoryName);
        if (!Directory.Exists(folder))
        {
            return [];
        }
        var list = new List<SignedCheckpoint>();
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            if (long.TryParse(Path.GetFileName(file), NumberStyles.None, CultureInfo.InvariantCulture, out _) && Read(file) is { } checkpoint)
            {
                list.Add(checkpoint);
            }
        }
        list.Sort((a, b) => a.Checkpoint.Size.CompareTo(b.Checkpoint.Size));
        return list;
    }

    /// <summary>
    /// Catches the tree up and signs a checkpoint of its current size, unless the latest one already has that size
    /// (then it is returned as it is, with its cosignatures). Writes the partial tiles the new size needs.
    /// </summary>
    /// <exception cref="SignetException">
    /// The log is not a consistent extension of the latest checkpoint (records before its size were removed, inserted
    /// or changed, or the log is shorter): signing would put two histories on record. The message says which.
    /// </exception>
    public SignedCheckpoint Create(AuditTree tree, NoteSigner signer)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(signer);
        using var fileLock = new AuditFileLock(Path.Combine(_directory, "checkpoint.lock"));
        fileLock.Acquire();
        try
        {
            tree.CatchUp();
            var size = tree.Size;
            var latest = Latest();
            if (latest is not null)
            {
                CheckExtends(tree, latest.Checkpoint, LatestPath);
                if (latest.Checkpoint.Size == size && string.Equals(latest.Checkpoint.Origin, signer.Name, StringComparison.Ordinal))
                {
                    return latest;
                }
            }
            var previous = latest?.Checkpoint.Size ?? 0;
            if (size > previous)
            {
                // Sign only what is on the disk: a record written but not yet fsynced (a response receipt, fast mode)
                // and lost in a crash would leave the log shorter than a checkpoint it published.
                SyncDayFilesFrom(tree.ReadEntry(previous).Path);
            }
            var root = tree.RootAt(size);
            var signed = SignedCheckpoint.Create(new Checkpoint(signer.Name, size, root), signer);
            tree.WriteCheckpointTiles(size);
            var bytes = Encoding.UTF8.GetBytes(signed.ToString());
            DurableFile.Replace(HistoryPath(size), bytes);
            DurableFile.Replace(LatestPath, bytes);
            return signed;
        }
        finally
        {
            fileLock.Release();
        }
    }

    /// <summary>
    /// Adds cosignatures to the stored checkpoint with the same body (the latest and its history file). Returns the
    /// checkpoint as stored, or null when the stored one has moved on to another body (the cosignatures are then
    /// kept only in that checkpoint's history file).
    /// </summary>
    public SignedCheckpoint? AddCosignatures(SignedCheckpoint checkpoint, IEnumerable<NoteSignature> cosignatures)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var added = cosignatures.ToList();
        using var fileLock = new AuditFileLock(Path.Combine(_directory, "checkpoint.lock"));
        fileLock.Acquire();
        try
        {
            var history = Read(HistoryPath(checkpoint.Checkpoint.Size));
            if (history is not null && string.Equals(history.Note.Text, checkpoint.Note.Text, StringComparison.Ordinal))
            {
                DurableFile.Replace(HistoryPath(checkpoint.Checkpoint.Size), Encoding.UTF8.GetBytes(history.Note.WithSignatures(added).ToString()));
            }
            var latest = Latest();
            if (latest is null || !string.Equals(latest.Note.Text, checkpoint.Note.Text, StringComparison.Ordinal))
            {
                return null;
            }
            var merged = latest.WithSignatures(added);
            DurableFile.Replace(LatestPath, Encoding.UTF8.GetBytes(merged.ToString()));
            return merged;
        }
        finally
        {
            fileLock.Release();
        }
    }

    /// <summary>
    /// Checks that the tree (caught up by the caller) extends a checkpoint: it has at least that many records and its
    /// first <c>Size</c> records hash to the checkpoint's root.
    /// </summary>
    /// <exception cref="SignetException">It does not; the message says how.</exception>
    public static void CheckExtends(AuditTree tree, Checkpoint checkpoint, string source)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (tree.Size < checkpoint.Size)
        {
            throw new SignetException(string.Create(CultureInfo.InvariantCulture,
                $"the log has {tree.Size} records but the checkpoint in {source} covers {checkpoint.Size}: records were removed from the log"));
        }
        if (!tree.RootAt(checkpoint.Size).AsSpan().SequenceEqual(checkpoint.RootHash))
        {
            throw new SignetException(string.Create(CultureInfo.InvariantCulture,
                $"the log's first {checkpoint.Size} records no longer hash to the root of the checkpoint in {source}: a record before {checkpoint.Size} was removed, inserted, reordered or changed (run 'signet log verify --checkpoint {source}')"));
        }
    }

    /// <summary>Fsyncs the day file holding the first record after the previous checkpoint, and every later one.</summary>
    private void SyncDayFilesFrom(string firstFile)
    {
        var first = Path.GetFileName(firstFile);
        foreach (var file in AuditRecordFormat.ChainFiles(_directory))
        {
            if (string.CompareOrdinal(Path.GetFileName(file), first) < 0)
            {
                continue;
            }
            // fsync needs no write access on POSIX; Windows' FlushFileBuffers does.
            using var handle = File.OpenHandle(file, FileMode.Open, OperatingSystem.IsWindows() ? FileAccess.ReadWrite : FileAccess.Read,
                FileShare.ReadWrite | FileShare.Delete);
            RandomAccess.FlushToDisk(handle);
            Synced?.Invoke(file);
        }
    }

    private string HistoryPath(long size) => Path.Combine(_directory, HistoryDirectoryName, size.ToString(CultureInfo.InvariantCulture));

    private static SignedCheckpoint? Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            return SignedCheckpoint.Parse(text);
        }
        catch (SignetException e)
        {
            throw new SignetException($"{path} is not a signed checkpoint: {e.Message}", e);
        }
    }
}
