namespace CryoFlow.Formats.Star;

/// <summary>
/// Splits a byte stream into lines without decoding: LF ends a line, a CR before it is dropped, a
/// UTF-8 byte-order mark at the start is skipped. Lines of any length; each byte is scanned once.
/// The span returned by <see cref="TryReadLine"/> is valid until the next call.
/// </summary>
internal sealed class Utf8LineReader(Stream stream)
{
    private byte[] _buf = new byte[1 << 16];
    private int _start, _end, _scanned;
    private bool _eof, _first = true;

    /// <summary>1-based number of the line returned last.</summary>
    public long LineNumber { get; private set; }

    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            int nl = _buf.AsSpan(_scanned, _end - _scanned).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                int stop = _scanned + nl;
                line = Take(_start, stop - _start);
                _start = _scanned = stop + 1;
                return true;
            }
            _scanned = _end;
            if (_eof)
            {
                if (_start < _end)
                {
                    line = Take(_start, _end - _start);
                    _start = _scanned = _end;
                    return true;
                }
                line = default;
                return false;
            }
            Fill();
        }
    }

    private ReadOnlySpan<byte> Take(int start, int length)
    {
        var s = _buf.AsSpan(start, length);
        if (s.Length > 0 && s[^1] == (byte)'\r') s = s[..^1];
        if (_first)
        {
            _first = false;
            if (s.StartsWith("\uFEFF"u8)) s = s[3..];
        }
        LineNumber++;
        return s;
    }

    private void Fill()
    {
        if (_start > 0)
        {
            int keep = _end - _start;
            Buffer.BlockCopy(_buf, _start, _buf, 0, keep);
            _scanned -= _start;
            _end = keep;
            _start = 0;
        }
        if (_end == _buf.Length) Array.Resize(ref _buf, checked(_buf.Length * 2));
        int n = stream.Read(_buf, _end, _buf.Length - _end);
        if (n == 0) _eof = true;
        else _end += n;
    }
}
