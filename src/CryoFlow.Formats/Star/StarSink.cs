using System.Text;

namespace CryoFlow.Formats.Star;

/// <summary>A byte buffer in front of a stream; avoids per-value string and writer overhead.</summary>
internal sealed class StarSink(Stream stream)
{
    private readonly byte[] _buf = new byte[1 << 16];
    private int _n;

    public void Byte(byte b)
    {
        if (_n == _buf.Length) Flush();
        _buf[_n++] = b;
    }

    public void Bytes(ReadOnlySpan<byte> s)
    {
        if (s.Length > _buf.Length - _n)
        {
            Flush();
            if (s.Length > _buf.Length)
            {
                stream.Write(s);
                return;
            }
        }
        s.CopyTo(_buf.AsSpan(_n));
        _n += s.Length;
    }

    public void Ascii(string s) => Bytes(Encoding.ASCII.GetBytes(s));

    public void Utf8(string s) => Bytes(Encoding.UTF8.GetBytes(s));

    public void Flush()
    {
        stream.Write(_buf, 0, _n);
        _n = 0;
    }
}
