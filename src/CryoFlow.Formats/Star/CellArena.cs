namespace CryoFlow.Formats.Star;

/// <summary>
/// Append-only store of cell bytes (UTF-8) for STAR tables. A cell is a 64-bit handle
/// (chunk, offset, length) instead of a string object, so a 10^6-row table costs roughly its file size
/// plus 8 bytes per cell rather than one heap object per cell. Chunks start small and double up to
/// 4 MiB so that tiny tables stay tiny. Not thread-safe for appends; reads are pure.
/// </summary>
internal sealed class CellArena
{
    private const int LengthBits = 22;
    private const int OffsetBits = 22;
    private const int MaxChunk = 1 << OffsetBits;

    /// <summary>The longest value a cell can hold (4 MiB - 1 bytes).</summary>
    public const int MaxLength = (1 << LengthBits) - 1;

    private readonly List<byte[]> _chunks = [];
    private int _used;

    /// <summary>Handle of the empty value; valid in every arena.</summary>
    public const ulong Empty = 0;

    public ulong Append(ReadOnlySpan<byte> value)
    {
        if (value.Length == 0) return Empty;
        if (value.Length > MaxLength)
            throw new ArgumentOutOfRangeException(nameof(value), $"a STAR value may hold at most {MaxLength} bytes, this one has {value.Length}");
        if (_chunks.Count == 0 || _chunks[^1].Length - _used < value.Length)
        {
            int size = _chunks.Count == 0 ? 4096 : Math.Min(MaxChunk, _chunks[^1].Length * 2);
            while (size < value.Length) size *= 2;
            _chunks.Add(new byte[size]);
            _used = 0;
        }
        int chunk = _chunks.Count - 1;
        value.CopyTo(_chunks[chunk].AsSpan(_used));
        ulong handle = ((ulong)(uint)chunk << (OffsetBits + LengthBits)) | ((ulong)(uint)_used << LengthBits) | (uint)value.Length;
        _used += value.Length;
        return handle;
    }

    /// <summary>Forgets every value but keeps the first chunk (a streamed table reuses one row's worth of bytes).</summary>
    public void Clear()
    {
        if (_chunks.Count > 1) _chunks.RemoveRange(1, _chunks.Count - 1);
        _used = 0;
    }

    public ReadOnlySpan<byte> Get(ulong handle)
    {
        int length = (int)(handle & MaxLength);
        if (length == 0) return default;
        int offset = (int)((handle >> LengthBits) & (MaxChunk - 1));
        int chunk = (int)(handle >> (OffsetBits + LengthBits));
        return _chunks[chunk].AsSpan(offset, length);
    }
}
