namespace Signet.Audit;

/// <summary>An exclusive, cross-process lock on a file that is never deleted (flock on Unix, a share-none handle on Windows).</summary>
internal sealed class AuditFileLock : IDisposable
{
    private readonly string _path;
    private readonly int _fd = -1;
    private FileStream? _windowsHandle;

    public AuditFileLock(string path)
    {
        _path = path;
        if (!OperatingSystem.IsWindows())
        {
            _fd = NativeFile.OpenLockFile(path);
        }
    }

    public string Path => _path;

    /// <summary>Waits for the lock. The caller must call <see cref="Release"/> (also after a failure).</summary>
    public void Acquire()
    {
        if (!OperatingSystem.IsWindows())
        {
            NativeFile.LockExclusiveBlocking(_fd, _path);
            return;
        }
        var spin = new SpinWait();
        while (true)
        {
            try
            {
                _windowsHandle = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                return;
            }
            catch (IOException) when (File.Exists(_path))
            {
                spin.SpinOnce(sleep1Threshold: 10);
            }
        }
    }

    /// <summary>Takes the lock if nobody holds it; false otherwise. After true, the caller must call <see cref="Release"/>.</summary>
    public bool TryAcquire()
    {
        if (!OperatingSystem.IsWindows())
        {
            return NativeFile.TryLockExclusive(_fd, _path);
        }
        try
        {
            _windowsHandle = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (IOException) when (File.Exists(_path))
        {
            return false;
        }
    }

    public void Release()
    {
        if (!OperatingSystem.IsWindows())
        {
            NativeFile.Unlock(_fd);
            return;
        }
        _windowsHandle?.Dispose();
        _windowsHandle = null;
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            NativeFile.CloseDescriptor(_fd);
        }
        _windowsHandle?.Dispose();
    }
}
