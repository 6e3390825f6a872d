using System.Text.RegularExpressions;

namespace Signet.Keys;

/// <summary>
/// The key files under a Signet home's <c>keys/</c> directory, in the reference Signet's formats (FORMAT.md §7):
/// <c>NAME.key</c> (Argon2id + XChaCha20-Poly1305 encrypted, or an unencrypted seed) and <c>NAME.pub</c>.
/// </summary>
/// <remarks>
/// New files are written to a temporary file with mode 0600, flushed to disk and renamed into place; an existing key is
/// never overwritten. Every error is a <see cref="KeyStoreException"/> whose one-line message names the file and says
/// what to do; no message contains a passphrase or key material.
/// </remarks>
public sealed partial class KeyStore
{
    private const UnixFileMode FileMode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly TimeProvider _time;
    private readonly RandomSource _random;
    private readonly Argon2Cost _cost;

    /// <summary>Creates a store over a keys directory (it is created, mode 0700, when the first key is).</summary>
    public KeyStore(string keysDirectory, TimeProvider? timeProvider = null, RandomSource? random = null)
        : this(keysDirectory, timeProvider, random, Argon2Cost.Reference)
    {
    }

    internal KeyStore(string keysDirectory, TimeProvider? timeProvider, RandomSource? random, Argon2Cost cost)
    {
        ArgumentException.ThrowIfNullOrEmpty(keysDirectory);
        Directory = Path.GetFullPath(keysDirectory);
        _time = timeProvider ?? TimeProvider.System;
        _random = random ?? RandomSource.Cryptographic;
        _cost = cost;
    }

    /// <summary>The store of a Signet home: <c>HOME/keys</c>.</summary>
    public static KeyStore ForHome(string home, TimeProvider? timeProvider = null, RandomSource? random = null) =>
        new(SignetHome.KeysDirectory(home), timeProvider, random);

    /// <summary>The keys directory.</summary>
    public string Directory { get; }

    /// <summary>True when the name is usable for a key: letters, digits, <c>_</c> and <c>-</c>, as in the reference.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Throws a <see cref="KeyStoreException"/> that explains the rule when the name is not valid.</summary>
    public static void ValidateName(string? name)
    {
        if (!IsValidName(name))
        {
            throw new KeyStoreException(
                $"invalid key name \"{name}\": use only letters, digits, '_' and '-' (for example agent-1)");
        }
    }

    /// <summary>The path of a key's <c>.key</c> file.</summary>
    public string KeyFilePath(string name)
    {
        ValidateName(name);
        return Path.Combine(Directory, name + ".key");
    }

    /// <summary>The path of a key's <c>.pub</c> file.</summary>
    public string PublicKeyFilePath(string name)
    {
        ValidateName(name);
        return Path.Combine(Directory, name + ".pub");
    }

    /// <summary>True when a <c>.key</c> file exists for the name.</summary>
    public bool Exists(string name) => File.Exists(KeyFilePath(name));

    /// <summary>The names of the stored keys (each <c>.key</c> file with a valid name), sorted.</summary>
    public IReadOnlyList<string> Names()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }
        try
        {
            return System.IO.Directory.EnumerateFiles(Directory, "*.key")
                .Select(Path.GetFileNameWithoutExtension)
                .OfType<string>()
                .Where(IsValidName)
                .Order(StringComparer.Ordinal)
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyStoreException($"cannot list the keys directory {Directory} ({e.Message}); check its permissions", Directory, e);
        }
    }

    /// <summary>Creates a new key whose seed is encrypted with a passphrase from <paramref name="passphrase"/>.</summary>
    public KeyInfo CreateEncrypted(string name, PassphraseSource passphrase, string? owner = null)
    {
        ArgumentNullException.ThrowIfNull(passphrase);
        var keyPath = KeyFilePath(name);
        RefuseExisting(name);
        var secret = passphrase.GetPassphrase(new PassphraseRequest(name, keyPath, PassphrasePurpose.Create))
            ?? throw new KeyStoreException(
                $"key \"{name}\" was not created: no passphrase to encrypt {keyPath}; set {PassphraseSource.EnvironmentVariable}, " +
                "pass --passphrase-file FILE, run in a terminal to be prompted, or pass --unencrypted", keyPath);
        if (secret.Length == 0)
        {
            throw new KeyStoreException(
                $"key \"{name}\" was not created: the passphrase is empty; choose a passphrase or pass --unencrypted", keyPath);
        }
        return Create(name, owner, seed => KeyFile.WriteEncrypted(name, seed, secret, _cost, _random), encrypted: true);
    }

    /// <summary>Creates a new key stored unencrypted (the seed in base64, protected only by the file's mode 0600).</summary>
    public KeyInfo CreateUnencrypted(string name, string? owner = null)
    {
        ValidateName(name);
        RefuseExisting(name);
        return Create(name, owner, seed => KeyFile.WriteUnencrypted(name, seed), encrypted: false);
    }

    /// <summary>Loads and unlocks a key; an encrypted key asks <paramref name="passphrase"/> for its passphrase.</summary>
    public LoadedKey Load(string name, PassphraseSource passphrase)
    {
        ArgumentNullException.ThrowIfNull(passphrase);
        var keyPath = KeyFilePath(name);
        var contents = ReadKeyFile(name, keyPath);
        var seed = new byte[KeyFile.SeedSize];
        try
        {
            if (contents.Seed is { } plain)
            {
                plain.CopyTo(seed, 0);
                Array.Clear(plain);
            }
            else
            {
                var secret = passphrase.GetPassphrase(new PassphraseRequest(name, keyPath, PassphrasePurpose.Unlock))
                    ?? throw new KeyStoreException(
                        $"{keyPath}: key \"{name}\" is encrypted and no passphrase is available (no terminal to prompt); " +
                        $"set {PassphraseSource.EnvironmentVariable} (for an MCP client, in the server entry's \"env\") or pass --passphrase-file FILE",
                        keyPath);
                if (!KeyFile.TryDecrypt(contents, secret, seed))
                {
                    throw new KeyStoreException(
                        $"{keyPath}: wrong passphrase for key \"{name}\", or the file was modified (decryption failed); " +
                        $"check the passphrase given ({PassphraseSource.EnvironmentVariable}, --passphrase-file or the prompt), or restore the file from a backup",
                        keyPath);
                }
            }

            var key = SigningKey.FromSeed(seed);
            try
            {
                var pub = ReadPublicFile(name, keyPath, key.PublicKey, required: false);
                return new LoadedKey(name, pub?.Owner ?? "", key);
            }
            catch
            {
                key.Dispose();
                throw;
            }
        }
        finally
        {
            Array.Clear(seed);
        }
    }

    /// <summary>Describes a key from its files without unlocking it.</summary>
    public KeyInfo Describe(string name)
    {
        var keyPath = KeyFilePath(name);
        var contents = ReadKeyFile(name, keyPath);
        PublicKey? fromSeed = null;
        if (contents.Seed is { } seed)
        {
            using var key = SigningKey.FromSeed(seed);
            Array.Clear(seed);
            fromSeed = key.PublicKey;
        }
        var pub = ReadPublicFile(name, keyPath, fromSeed, required: fromSeed is null);
        return new KeyInfo(name, pub?.PublicKey ?? fromSeed!, pub?.Owner ?? "", contents.Encrypted, pub?.CreatedAt, keyPath);
    }

    /// <summary>Describes every stored key; a key whose files cannot be read is listed with the problem.</summary>
    public IReadOnlyList<KeyListEntry> List() => Names().Select(name =>
    {
        try
        {
            return new KeyListEntry(name, Describe(name), null);
        }
        catch (KeyStoreException e)
        {
            return new KeyListEntry(name, null, e.Message);
        }
    }).ToList();

    private KeyInfo Create(string name, string? owner, Func<byte[], byte[]> writeKeyFile, bool encrypted)
    {
        var keyPath = KeyFilePath(name);
        var pubPath = PublicKeyFilePath(name);
        var seed = new byte[KeyFile.SeedSize];
        try
        {
            _random.Fill(seed);
            using var key = SigningKey.FromSeed(seed);
            var createdAt = KeyFile.FormatCreatedAt(_time.GetUtcNow());
            var keyBytes = writeKeyFile(seed);
            var pubBytes = KeyFile.WritePublic(name, key.PublicKey, owner, createdAt);
            EnsureDirectory(name);
            WriteNew(keyPath, keyBytes, name);
            var pubWritten = false;
            try
            {
                WriteNew(pubPath, pubBytes, name);
                pubWritten = true;
                // The renames are durable only once the directory is: without this a power cut can lose a new key.
                SyncDirectory(Directory, name);
            }
            catch
            {
                // The key was never handed out; half made (no .pub, or not durable) it is removed.
                File.Delete(keyPath);
                if (pubWritten)
                {
                    File.Delete(pubPath);
                }
                throw;
            }
            return new KeyInfo(name, key.PublicKey, owner ?? "", encrypted, createdAt, keyPath);
        }
        finally
        {
            Array.Clear(seed);
        }
    }

    private void RefuseExisting(string name)
    {
        foreach (var path in new[] { KeyFilePath(name), PublicKeyFilePath(name) })
        {
            if (File.Exists(path))
            {
                throw new KeyStoreException(
                    $"{path} already exists; key \"{name}\" was not created (choose another name, or move the old files away first)", path);
            }
        }
    }

    private void EnsureDirectory(string name)
    {
        var existed = System.IO.Directory.Exists(Directory);
        try
        {
            if (OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(Directory);
            }
            else
            {
                System.IO.Directory.CreateDirectory(Directory, DirectoryMode0700);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyStoreException($"cannot create the keys directory {Directory} ({e.Message}); check --home / SIGNET_HOME and permissions", Directory, e);
        }
        if (!existed && Path.GetDirectoryName(Path.GetFullPath(Directory)) is { } parent)
        {
            // A new directory's own name must survive a power cut too.
            SyncDirectory(parent, name);
        }
    }

    /// <summary>Fsyncs of the keys directory (and of its parent, when it was created) this store did; for tests.</summary>
    internal long DirectorySyncs => Interlocked.Read(ref _directorySyncs);

    private long _directorySyncs;

    /// <summary>Makes a directory's entries durable: a new file's name survives a power cut only after this.</summary>
    private void SyncDirectory(string directory, string name)
    {
        try
        {
            Signet.Audit.NativeFile.FsyncDirectory(directory);
            Interlocked.Increment(ref _directorySyncs);
        }
        catch (IOException e)
        {
            throw new KeyStoreException($"cannot make the keys directory {directory} durable ({e.Message}); key \"{name}\" may not survive a power cut", directory, e);
        }
    }

    private static void WriteNew(string path, byte[] contents, string name)
    {
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = FileMode0600;
            }
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }
            // Without overwrite the move fails if the target appeared meanwhile: an existing key is never replaced.
            File.Move(temp, path, overwrite: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            var what = File.Exists(path) ? "it already exists" : e.Message;
            throw new KeyStoreException($"cannot write {path} ({what}); key \"{name}\" was not created", path, e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The temporary file is ours and holds nothing usable without the rename; leaving it is harmless.
        }
    }

    private KeyFileContents ReadKeyFile(string name, string keyPath)
    {
        var bytes = ReadFile(keyPath, () => NotFound(name, keyPath));
        try
        {
            var contents = KeyFile.ParseKey(bytes, problem => Damaged(keyPath, problem));
            if (contents.Name != name)
            {
                throw Damaged(keyPath, $"the file says its name is \"{contents.Name}\", but it is stored as \"{name}\"");
            }
            return contents;
        }
        finally
        {
            Array.Clear(bytes);
        }
    }

    private PublicKeyFile? ReadPublicFile(string name, string keyPath, PublicKey? expected, bool required)
    {
        var pubPath = PublicKeyFilePath(name);
        if (!required && !File.Exists(pubPath))
        {
            return null;
        }
        var bytes = ReadFile(pubPath, () => new KeyStoreException(
            $"{pubPath} is missing, so the public key of encrypted key \"{name}\" is unknown; restore it from a backup " +
            $"(the key itself is {keyPath})", pubPath));
        var pub = KeyFile.ParsePublic(bytes, problem => Damaged(pubPath, problem));
        if (pub.Name != name)
        {
            throw Damaged(pubPath, $"the file says its name is \"{pub.Name}\", but it is stored as \"{name}\"");
        }
        if (expected is not null && !pub.PublicKey.Equals(expected))
        {
            throw new KeyStoreException(
                $"{pubPath}: its public key does not match the secret key in {keyPath}; one of the two files was replaced, " +
                "restore the matching pair from a backup", pubPath);
        }
        return pub;
    }

    private static byte[] ReadFile(string path, Func<KeyStoreException> notFound)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > KeyFile.MaxFileSize)
            {
                throw new KeyStoreException($"{path}: {stream.Length} bytes is too large for a key file; check the path", path);
            }
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw notFound();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyStoreException($"cannot read {path} ({e.Message}); check its permissions", path, e);
        }
    }

    private KeyStoreException NotFound(string name, string keyPath)
    {
        var names = Names();
        var available = names.Count == 0 ? "there are no keys in " + Directory : "available: " + string.Join(", ", names);
        return new KeyStoreException(
            $"key \"{name}\" not found ({keyPath} does not exist; {available}); create it with 'signet key new {name}', " +
            "or choose another with --key / SIGNET_KEY and --home / SIGNET_HOME", keyPath);
    }

    private static KeyStoreException Damaged(string path, string problem) => new(
        $"{path}: {problem}; restore the file from a backup, or create a new key with 'signet key new'", path);

    [GeneratedRegex(@"^[A-Za-z0-9_-]+\z")]
    private static partial Regex NamePattern();
}
