using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using CryoFlow.Formats.Errors;
using Microsoft.Win32.SafeHandles;
using Serilog;

namespace CryoFlow.Formats.Mrc;

/// <summary>
/// Random access to the sections of an MRC file: image <c>i</c> of a stack, or a whole volume. Reads are
/// positional (<see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>) and touch only the bytes
/// of the section asked for, so any number of threads may call <see cref="ReadImage(long, Span{float})"/>
/// at once. For whole-stack passes <see cref="MrcStreamReader"/> is the sequential counterpart.
/// <para>
/// Refused with <see cref="MrcFormatException"/> (file, field, byte offset, expected, found): a file shorter than
/// the 1024-byte header, than 1024 + NSYMBT, or than the data NX*NY*NZ*MODE declare; NX, NY or NZ not positive;
/// sizes overflowing 64 bits; unknown or complex MODE; odd NX*NY in mode 101; negative NSYMBT; a section larger
/// than one buffer. Every size is computed in checked 64-bit arithmetic and compared with the file length before
/// anything is allocated.
/// </para>
/// <para>
/// Tolerated with a warning (logged and listed in <see cref="Warnings"/>), because real files do it: unknown
/// MACHST (little-endian assumed); MODE and dimensions sane only in the other byte order (that order used); no
/// "MAP" identifier; NVERSION other than 20140/20141; negative MX/MY/MZ or negative/non-finite CELLA (that axis's
/// voxel size becomes unknown, null); MAPC/MAPR/MAPS other than 1/2/3 (data read in file order); NLABL outside
/// 0..10 (labels ignored); a file longer than declared (extra bytes ignored); a stack/volume marking (ISPG, MZ)
/// at odds with how the caller opened it. Header statistics (DMIN, DMAX, DMEAN, RMS) are kept as stored and
/// never checked: RELION writes sentinels there.
/// </para>
/// </summary>
public sealed class MrcReader : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly bool _swap;

    private MrcReader(string path, SafeFileHandle handle, MrcHeader header, MrcLayout layout, IReadOnlyList<MrcWarning> warnings)
    {
        FilePath = path;
        _handle = handle;
        Header = header;
        Layout = layout;
        Warnings = warnings;
        _swap = MrcPixelCodec.NeedsSwap(header.IsBigEndian);
    }

    public string FilePath { get; }

    public MrcHeader Header { get; }

    /// <summary>How the caller chose to read the file.</summary>
    public MrcLayout Layout { get; }

    /// <summary>Everything tolerated in this file: header deviations and a stack/volume marking at odds with <see cref="Layout"/>.</summary>
    public IReadOnlyList<MrcWarning> Warnings { get; }

    /// <summary>NX, columns.</summary>
    public int Width => Header.Nx;

    /// <summary>NY, rows.</summary>
    public int Height => Header.Ny;

    /// <summary>NZ: images of a stack, sections of a volume.</summary>
    public long ImageCount => Header.Nz;

    /// <summary>NX * NY, the floats one image (section) needs.</summary>
    public int PixelsPerImage => (int)Header.VoxelsPerSection;

    /// <summary>Opens a file as NZ images of NX x NY, whatever ISPG and MZ say (warning when they disagree).</summary>
    /// <exception cref="MrcFormatException">the header is impossible or the file shorter than it declares</exception>
    public static MrcReader OpenStack(string path, ILogger? logger = null) => Open(path, MrcLayout.Stack, logger);

    /// <summary>Opens a file as one NX x NY x NZ volume.</summary>
    /// <exception cref="MrcFormatException">the header is impossible or the file shorter than it declares</exception>
    public static MrcReader OpenVolume(string path, ILogger? logger = null) => Open(path, MrcLayout.Volume, logger);

    /// <summary>Reads and checks the header and extended header only, including the file length it declares.</summary>
    /// <exception cref="MrcFormatException">the header is impossible or the file shorter than it declares</exception>
    public static MrcHeader ReadHeader(string path, ILogger? logger = null)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadHeader(handle, path, new MrcWarningSink(path, logger));
    }

    /// <summary>Opens a file with the layout given.</summary>
    public static MrcReader Open(string path, MrcLayout layout, ILogger? logger = null)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        bool ok = false;
        try
        {
            var sink = new MrcWarningSink(path, logger);
            var header = ReadHeader(handle, path, sink);
            MrcLayoutCheck.CheckSectionFitsSpan(header, path);
            MrcLayoutCheck.Warn(header, layout, sink);
            var reader = new MrcReader(path, handle, header, layout, sink.Snapshot());
            ok = true;
            return reader;
        }
        finally
        {
            if (!ok) handle.Dispose();
        }
    }

    private static MrcHeader ReadHeader(SafeFileHandle handle, string path, MrcWarningSink sink)
    {
        long length = RandomAccess.GetLength(handle);
        if (length < MrcHeader.MainHeaderSize)
            throw new MrcFormatException("file is shorter than the 1024-byte MRC header",
                new DataLocation(path, "header", 0, Expected: "at least 1024 bytes", Found: $"{length} bytes"));
        Span<byte> main = stackalloc byte[MrcHeader.MainHeaderSize];
        ReadExactly(handle, main, 0, path, "header", null);
        // Parse compares every declared size with the file length before anything is allocated.
        var header = MrcHeaderParser.Parse(main, path, length, sink);
        if (header.Nsymbt == 0) return header;
        var ext = new byte[header.Nsymbt];
        ReadExactly(handle, ext, MrcHeader.MainHeaderSize, path, "extended header", null);
        return header with { ExtendedHeader = ext };
    }

    /// <summary>
    /// Decodes image (section) <paramref name="index"/> into the first <see cref="PixelsPerImage"/> floats of
    /// <paramref name="destination"/>, row-major (x fastest). Thread-safe.
    /// </summary>
    /// <exception cref="MrcFormatException">index outside 0..NZ-1 (the message names the record), or the file
    /// was truncated after it was opened</exception>
    public void ReadImage(long index, Span<float> destination)
    {
        if ((ulong)index >= (ulong)Header.Nz) ThrowIndexOutOfRange(index);
        int n = PixelsPerImage;
        if (destination.Length < n)
            throw new ArgumentException($"destination holds {destination.Length} floats; an image needs {n}", nameof(destination));
        var dest = destination[..n];
        long sectionBytes = Header.BytesPerSection;
        long offset = Header.DataOffset + index * sectionBytes;

        if (Header.Mode == MrcMode.Float32)
        {
            // Same size in the file as in memory: read straight into the caller's floats.
            ReadExactly(_handle, MemoryMarshal.AsBytes(dest), offset, FilePath, "data", index);
            if (_swap) MrcPixelCodec.SwapFloat32InPlace(dest);
            return;
        }

        byte[] scratch = ArrayPool<byte>.Shared.Rent((int)sectionBytes);
        try
        {
            var raw = scratch.AsSpan(0, (int)sectionBytes);
            ReadExactly(_handle, raw, offset, FilePath, "data", index);
            MrcPixelCodec.Decode(Header.Mode, Header.IsBigEndian, raw, dest);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Decodes the <paramref name="width"/> x <paramref name="height"/> rectangle with lower corner
    /// (<paramref name="x0"/>, <paramref name="y0"/>) of image <paramref name="index"/>, reading only its rows' bytes
    /// (one positional read per row): a particle box from a micrograph without reading the micrograph. Thread-safe.
    /// </summary>
    /// <param name="destination">width * height floats, [y][x]</param>
    /// <exception cref="ArgumentOutOfRangeException">the rectangle is not inside the image</exception>
    /// <exception cref="MrcFormatException">index outside 0..NZ-1, or the file was truncated after it was opened</exception>
    public void ReadWindow(long index, int x0, int y0, int width, int height, Span<float> destination)
    {
        if ((ulong)index >= (ulong)Header.Nz) ThrowIndexOutOfRange(index);
        if (x0 < 0 || y0 < 0 || width < 1 || height < 1 || (long)x0 + width > Width || (long)y0 + height > Height)
            throw new ArgumentOutOfRangeException(nameof(x0), $"window {width} x {height} at ({x0}, {y0}) is not inside the {Width} x {Height} image");
        if (destination.Length < (long)width * height)
            throw new ArgumentException($"destination holds {destination.Length} floats; the window needs {(long)width * height}", nameof(destination));
        long first = index * Header.VoxelsPerSection;
        bool packed = Header.Mode == MrcMode.Packed4Bit;
        // 4-bit voxels share bytes: read from the even voxel at or before the row's start, then skip one
        int rowBytes = packed ? (width + 2) / 2 : checked((int)MrcModes.ByteCount(Header.Mode, width));
        byte[]? scratch = Header.Mode == MrcMode.Float32 ? null : ArrayPool<byte>.Shared.Rent(rowBytes);
        float[]? unpacked = packed ? ArrayPool<float>.Shared.Rent(width + 2) : null;
        try
        {
            for (int y = 0; y < height; y++)
            {
                var row = destination.Slice(y * width, width);
                long voxel = first + (long)(y0 + y) * Width + x0;
                if (scratch is null)
                {
                    ReadExactly(_handle, MemoryMarshal.AsBytes(row), Header.DataOffset + voxel * sizeof(float), FilePath, "data", index);
                    if (_swap) MrcPixelCodec.SwapFloat32InPlace(row);
                }
                else if (unpacked is null)
                {
                    var raw = scratch.AsSpan(0, rowBytes);
                    ReadExactly(_handle, raw, Header.DataOffset + MrcModes.ByteCount(Header.Mode, voxel), FilePath, "data", index);
                    MrcPixelCodec.Decode(Header.Mode, Header.IsBigEndian, raw, row);
                }
                else
                {
                    long even = voxel & ~1L;
                    int skip = (int)(voxel - even), count = width + skip;
                    var raw = scratch.AsSpan(0, (count + 1) / 2);
                    ReadExactly(_handle, raw, Header.DataOffset + even / 2, FilePath, "data", index);
                    MrcPixelCodec.Decode(Header.Mode, Header.IsBigEndian, raw, unpacked.AsSpan(0, count));
                    unpacked.AsSpan(skip, width).CopyTo(row);
                }
            }
        }
        finally
        {
            if (scratch is not null) ArrayPool<byte>.Shared.Return(scratch);
            if (unpacked is not null) ArrayPool<float>.Shared.Return(unpacked);
        }
    }

    /// <summary>Image (section) <paramref name="index"/> in a new array.</summary>
    public float[] ReadImage(long index)
    {
        var image = new float[PixelsPerImage];
        ReadImage(index, image);
        return image;
    }

    /// <summary>Decodes all NX*NY*NZ voxels into <paramref name="destination"/>, x fastest, then y, then z.</summary>
    /// <exception cref="InvalidOperationException">the file was opened as a stack: read it image by image or stream it</exception>
    public void ReadVolume(Span<float> destination)
    {
        if (Layout != MrcLayout.Volume)
            throw new InvalidOperationException($"{FilePath} was opened as a stack; read it with ReadImage or MrcStreamReader");
        long total = Header.VoxelsPerSection * Header.Nz;
        if (destination.Length < total)
            throw new ArgumentException($"destination holds {destination.Length} floats; the volume needs {total}", nameof(destination));
        int n = PixelsPerImage;
        for (int z = 0; z < Header.Nz; z++) ReadImage(z, destination.Slice(z * n, n));
    }

    /// <summary>The whole volume in a new array of NX*NY*NZ floats.</summary>
    /// <exception cref="MrcFormatException">the volume has more voxels than one array can hold</exception>
    public float[] ReadVolume()
    {
        long total = Header.VoxelsPerSection * Header.Nz;
        if (total > Array.MaxLength)
            throw new MrcFormatException("volume has more voxels than a single array can hold",
                new DataLocation(FilePath, "NX, NY, NZ", MrcHeaderParser.OffNx, Expected: $"NX*NY*NZ <= {Array.MaxLength}",
                    Found: $"{Header.Nx} x {Header.Ny} x {Header.Nz}"));
        var volume = new float[total];
        ReadVolume(volume);
        return volume;
    }

    public void Dispose() => _handle.Dispose();

    public override string ToString() => $"{FilePath} ({Layout}, {Width} x {Height} x {ImageCount}, mode {MrcModes.Describe((int)Header.Mode)})";

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path, string what, long? record)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int got = RandomAccess.Read(handle, buffer[done..], offset + done);
            if (got == 0) ThrowEndOfFile(path, what, offset + done, record, offset + buffer.Length);
            done += got;
        }
    }

    [DoesNotReturn]
    private static void ThrowEndOfFile(string path, string what, long at, long? record, long needed) =>
        throw new MrcFormatException($"file ended inside the {what} (truncated while open?)",
            new DataLocation(path, what, at, record, Expected: $"at least {needed} bytes", Found: $"{at} bytes"));

    [DoesNotReturn]
    private void ThrowIndexOutOfRange(long index) =>
        throw new MrcFormatException(Layout == MrcLayout.Stack ? "image index is past the end of the stack" : "section index is outside the volume",
            new DataLocation(FilePath, "NZ", Record: index, Expected: $"0..{Header.Nz - 1} ({Header.Nz} images, 0-based)",
                Found: MrcHeaderParser.Str(index)));
}
