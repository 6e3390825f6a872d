using Signet.Keys;

namespace Signet.Cli.Agent;

/// <summary>
/// The key a signer agent holds, and its lock: locked, the key is out of memory (a key file's secret disposed, a
/// PKCS#11 token's sessions closed and so logged out); unlocking opens it again with a passphrase or PIN the client sends.
/// </summary>
/// <remarks>
/// Thread-safe: signatures share a read lock, lock and unlock take the write lock, so a key is never disposed under a
/// signature. The name, owner and public key are remembered from the first open, so <c>info</c> answers while locked.
/// </remarks>
internal sealed class AgentKey : IDisposable
{
    private readonly Func<string?, LoadedKey> _open;
    private readonly ReaderWriterLockSlim _gate = new();
    private LoadedKey? _key;

    /// <param name="source">The key name or PKCS#11 URI it was started with.</param>
    /// <param name="kind"><c>file</c> or <c>pkcs11</c>.</param>
    /// <param name="secret">What unlocking needs: <c>passphrase</c>, <c>pin</c>, or <c>none</c> (an unencrypted key file).</param>
    /// <param name="open">Opens the key again with the secret a client sent (null when none).</param>
    /// <param name="first">The key, opened at start.</param>
    public AgentKey(string source, string kind, string secret, Func<string?, LoadedKey> open, LoadedKey first)
    {
        Source = source;
        Kind = kind;
        Secret = secret;
        _open = open;
        _key = first;
        Name = first.Name;
        Owner = first.Owner;
        PublicKey = first.PublicKey;
        Description = first.Signer.Description;
    }

    public string Source { get; }

    public string Kind { get; }

    public string Secret { get; }

    public string Name { get; }

    public string Owner { get; }

    public PublicKey PublicKey { get; }

    public string Description { get; }

    public bool IsLocked => Volatile.Read(ref _key) is null;

    /// <summary>Signs with the key; null when it is locked.</summary>
    public byte[]? TrySign(ReadOnlySpan<byte> data)
    {
        _gate.EnterReadLock();
        try
        {
            return _key?.Signer.Sign(data);
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>Takes the key out of memory; false when it was already locked.</summary>
    public bool Lock()
    {
        _gate.EnterWriteLock();
        try
        {
            if (_key is null)
            {
                return false;
            }
            _key.Dispose();
            _key = null;
            return true;
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>Opens the key again; false when it was not locked.</summary>
    /// <exception cref="SignetException">The secret is wrong, or the key that opened is another one.</exception>
    public bool Unlock(string? secret)
    {
        if (!IsLocked)
        {
            return false;
        }
        // Argon2id or a token login takes a while: done outside the lock, so status and info stay answered.
        var key = _open(secret);
        if (!key.PublicKey.Equals(PublicKey))
        {
            key.Dispose();
            throw new SignetException($"{Source} now holds another key ({key.PublicKey}) than the agent started with ({PublicKey}); restart the agent to use it");
        }
        _gate.EnterWriteLock();
        try
        {
            if (_key is not null)
            {
                key.Dispose();
                return false;
            }
            _key = key;
            return true;
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    public void Dispose()
    {
        Lock();
        _gate.Dispose();
    }
}
