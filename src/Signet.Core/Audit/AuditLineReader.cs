namespace Signet.Audit;

/// <summary>One line of a day file: its number, its bytes (without the newline) and whether a newline ended it.</summary>
internal readonly record struct AuditLine(long Number, byte[] Bytes, bool Terminated);

/// <summary>Reads a file line by line with one reusable buffer; memory is bounded by the longest line.</summary>
internal sealed class AuditLineReader : IDisposable
{
    private readonly FileStream _stream;
    private byte[] _buffer = new byte[1 << 16];
    private int _start;
    private int _end;
    private bool _eof;
    private long _number;

    public AuditLineReader(string path)
    {
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
    }

    /// <summary>The next line, or false at the end of the file.</summary>
    public bool TryRead(out AuditLine line)
    {
        while (true)
        {
            var nl = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                var bytes = _buffer.AsSpan(_start, nl).ToArray();
                _start += nl + 1;
                line = new AuditLine(++_number, bytes, true);
                return true;
            }
            if (_eof)
            {
                if (_end > _start)
                {
                    var bytes = _buffer.AsSpan(_start, _end - _start).ToArray();
                    _start = _end;
                    line = new AuditLine(++_number, bytes, false);
                    return true;
                }
                line = default;
                return false;
            }
            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        var n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0)
        {
            _eof = true;
        }
        _end += n;
    }

    public void Dispose() => _stream.Dispose();
}
