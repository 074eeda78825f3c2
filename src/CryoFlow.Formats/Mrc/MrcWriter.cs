using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace CryoFlow.Formats.Mrc;

/// <summary>Choices for <see cref="MrcWriter"/>.</summary>
public sealed record MrcWriterOptions
{
    /// <summary>Voxel (pixel) size in Å, written as CELLA = N x size with MX = NX etc.; null writes a zero
    /// cell, which readers take as unknown.</summary>
    public double? VoxelSize { get; init; }

    /// <summary><see cref="MrcMode.Float32"/> (default) or <see cref="MrcMode.Float16"/>.</summary>
    public MrcMode Mode { get; init; } = MrcMode.Float32;

    /// <summary>ORIGIN x, y, z, stored as given (Å).</summary>
    public Vector3 Origin { get; init; }

    /// <summary>Label text after "CryoFlow &lt;version&gt;"; printable ASCII, cut to fit 80 characters.</summary>
    public string? Label { get; init; }
}

/// <summary>
/// Writes an MRC2014 stack or volume, little-endian, mode 2 or 12, one image (section) at a time: a stack of
/// any length is never held in memory. Statistics are accumulated in double as images arrive and the header is
/// rewritten on <see cref="Complete"/>. The file is written as <c>path.tmp-&lt;random&gt;</c>, flushed to disk and
/// renamed over <c>path</c> only on <see cref="Complete"/>; disposing without completing deletes it, so the
/// final path never holds a half-written file. Not thread-safe: one writer, one thread at a time.
/// </summary>
public sealed class MrcWriter : IDisposable
{
    private const int StreamBufferSize = 1 << 20;

    private readonly FileStream _stream;
    private readonly MrcLayout _layout;
    private readonly int _declaredSections;
    private readonly MrcWriterOptions _options;
    private RunningStatistics _stats;
    private byte[]? _encoded;
    private float[]? _stored;
    private bool _completed;
    private bool _disposed;

    private MrcWriter(string path, int nx, int ny, int nz, MrcLayout layout, MrcWriterOptions options)
    {
        if (nx <= 0) throw new ArgumentOutOfRangeException(nameof(nx), nx, "must be positive");
        if (ny <= 0) throw new ArgumentOutOfRangeException(nameof(ny), ny, "must be positive");
        if (nz <= 0 && layout == MrcLayout.Volume) throw new ArgumentOutOfRangeException(nameof(nz), nz, "must be positive");
        if ((long)nx * ny > MrcLayoutCheck.MaxSectionVoxels)
            throw new ArgumentOutOfRangeException(nameof(nx), $"NX*NY exceeds {MrcLayoutCheck.MaxSectionVoxels}, the largest section written in one piece");
        if (!MrcModes.IsWritable(options.Mode))
            throw new ArgumentOutOfRangeException(nameof(options), options.Mode, "the writer produces modes 2 (float32) and 12 (float16)");
        if (options.VoxelSize is double v && !(v > 0 && double.IsFinite(v)))
            throw new ArgumentOutOfRangeException(nameof(options), v, "voxel size must be a positive number of Å, or null for unknown");

        FilePath = Path.GetFullPath(path);
        Width = nx;
        Height = ny;
        _declaredSections = nz;
        _layout = layout;
        _options = options;
        TempPath = FilePath + ".tmp-" + RandomSuffix();
        _stream = new FileStream(TempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, StreamBufferSize);
        bool ok = false;
        try
        {
            // Placeholder header; the real one, with counts and statistics, is written by Complete.
            _stream.Write(new byte[MrcHeader.MainHeaderSize]);
            ok = true;
        }
        finally
        {
            if (!ok)
            {
                _stream.Dispose();
                File.Delete(TempPath);
            }
        }
    }

    /// <summary>Where the file will be once complete.</summary>
    public string FilePath { get; }

    /// <summary>Where it is being written meanwhile.</summary>
    public string TempPath { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Images (sections) appended so far.</summary>
    public long ImagesWritten { get; private set; }

    /// <summary>Statistics of the voxels as stored (after float16 rounding) so far.</summary>
    public MrcStatistics Statistics => _stats.ToStatistics();

    /// <summary>Starts a stack of <paramref name="width"/> x <paramref name="height"/> images (ISPG 0, MZ 1).</summary>
    public static MrcWriter CreateStack(string path, int width, int height, MrcWriterOptions? options = null) =>
        new(path, width, height, 0, MrcLayout.Stack, options ?? new MrcWriterOptions());

    /// <summary>Starts a volume (ISPG 1, MZ = NZ); append exactly <paramref name="nz"/> sections.</summary>
    public static MrcWriter CreateVolume(string path, int nx, int ny, int nz, MrcWriterOptions? options = null) =>
        new(path, nx, ny, nz, MrcLayout.Volume, options ?? new MrcWriterOptions());

    /// <summary>Writes a whole volume, x fastest, then y, then z.</summary>
    public static void WriteVolume(string path, ReadOnlySpan<float> voxels, int nx, int ny, int nz, MrcWriterOptions? options = null)
    {
        if (voxels.Length != (long)nx * ny * nz)
            throw new ArgumentException($"{voxels.Length} voxels given for a {nx} x {ny} x {nz} volume", nameof(voxels));
        using var writer = CreateVolume(path, nx, ny, nz, options);
        int section = nx * ny;
        for (int z = 0; z < nz; z++) writer.AppendImage(voxels.Slice(z * section, section));
        writer.Complete();
    }

    /// <summary>Appends one image of a stack, or the next section of a volume: exactly NX*NY floats, x fastest.</summary>
    public void AppendImage(ReadOnlySpan<float> image)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) throw new InvalidOperationException($"{FilePath}: already complete");
        int n = Width * Height;
        if (image.Length != n)
            throw new ArgumentException($"an image of {Width} x {Height} needs {n} floats; {image.Length} given", nameof(image));
        if (_layout == MrcLayout.Volume && ImagesWritten >= _declaredSections)
            throw new InvalidOperationException($"{FilePath}: the volume has {_declaredSections} sections, all written");
        if (ImagesWritten >= int.MaxValue)
            throw new InvalidOperationException($"{FilePath}: MRC holds at most {int.MaxValue} images (NZ is 32-bit)");

        if (_options.Mode == MrcMode.Float32 && BitConverter.IsLittleEndian)
        {
            _stats.Add(image);
            _stream.Write(MemoryMarshal.AsBytes(image));
        }
        else
        {
            _encoded ??= new byte[MrcModes.ByteCount(_options.Mode, n)];
            _stored ??= new float[n];
            MrcPixelCodec.EncodeLittleEndian(_options.Mode, image, _encoded, _stored);
            _stats.Add(_stored);
            _stream.Write(_encoded);
        }
        ImagesWritten++;
    }

    /// <summary>
    /// Writes the final header, flushes to disk (fsync) and renames the file to <see cref="FilePath"/>,
    /// replacing any file there.
    /// </summary>
    /// <exception cref="InvalidOperationException">no image was appended, or a volume is missing sections</exception>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) throw new InvalidOperationException($"{FilePath}: already complete");
        if (ImagesWritten == 0) throw new InvalidOperationException($"{FilePath}: no image was appended");
        if (_layout == MrcLayout.Volume && ImagesWritten != _declaredSections)
            throw new InvalidOperationException($"{FilePath}: {ImagesWritten} of {_declaredSections} sections written");

        int nz = (int)ImagesWritten;
        int mz = _layout == MrcLayout.Volume ? nz : 1;
        float vs = (float)(_options.VoxelSize ?? 0);
        var fields = new MrcHeaderFields(
            Width, Height, nz, _options.Mode, mz,
            new Vector3(Width * vs, Height * vs, mz * vs),
            _layout == MrcLayout.Volume ? 1 : 0,
            _options.Origin,
            Statistics,
            Label());
        Span<byte> header = stackalloc byte[MrcHeader.MainHeaderSize];
        MrcHeaderEncoder.Encode(fields, header);
        _stream.Flush();
        _stream.Position = 0;
        _stream.Write(header);
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(TempPath, FilePath, overwrite: true);
        _completed = true;
    }

    /// <summary>Closes the file; without <see cref="Complete"/> the temporary file is deleted.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stream.Dispose();
        if (!_completed) File.Delete(TempPath);
    }

    public override string ToString() => $"{FilePath} ({_layout}, {Width} x {Height}, {ImagesWritten} written)";

    private string Label()
    {
        string version = typeof(MrcWriter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0) version = version[..plus];
        string when = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        string text = _options.Label is { Length: > 0 } l ? $"CryoFlow {version}: {l}" : $"CryoFlow {version} {when}";
        return MrcHeaderEncoder.AsciiLabel(text);
    }

    private static string RandomSuffix() =>
        Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
}
