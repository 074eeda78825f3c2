using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using CryoFlow.Formats.State;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Projection;
using Microsoft.Win32.SafeHandles;
using Serilog;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>
/// --cache DIR: prepared particles kept on disk (DESIGN 8), so later epochs, resumed runs and runs with other
/// settings of the optimiser skip reading the raw image, normalising it and transforming it. One file per dataset
/// and preparation, <c>prepared-KEY.bin</c>, KEY a hash of the particle file (path, size, time), the box, the pixel
/// size, the preparation settings and the projector's padding: fixed-size records, particle i at i x record size,
/// written the first time the particle is prepared (the file is sparse until then).
/// <para>Record: uint64 StateHash64 of the rest seeded with particle + 1 (0: empty), then float64 background mean,
/// noise sigma, total energy, int64 background pixels, the cumulative energy table (D^2/4 float64) and the padded
/// transform (float32). A cached particle is bitwise the particle preparation would make again, so a run with a
/// cache gives the same map as one without. A record that fails its checksum (a write cut short by a crash) is a
/// miss and is prepared again.</para>
/// The padded transform is 4 x the raw image (padding 2): the cache takes about 4.5 x the size of the stack.
/// </summary>
public sealed class PreparedParticleCache : IDisposable
{
    private const int HeaderBytes = 8 + 4 * 8;
    private readonly SafeFileHandle _file;
    private readonly int _energies, _floats;
    private readonly long _recordBytes;
    private readonly double _pixelSize;
    private readonly bool _invert;
    private long _hits, _misses;

    private PreparedParticleCache(string path, int particles, int energies, int floats, double pixelSize, bool invert)
    {
        Path = path;
        _energies = energies;
        _floats = floats;
        _pixelSize = pixelSize;
        _invert = invert;
        _recordBytes = HeaderBytes + 8L * energies + 4L * floats;
        _file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, FileOptions.RandomAccess);
        long length = checked(_recordBytes * particles);
        if (RandomAccess.GetLength(_file) != length) RandomAccess.SetLength(_file, length);
    }

    /// <summary>The cache file.</summary>
    public string Path { get; }

    /// <summary>Particles served from the cache and prepared afresh so far.</summary>
    public (long Hits, long Misses) Counts => (Interlocked.Read(ref _hits), Interlocked.Read(ref _misses));

    /// <summary>Opens (or creates) the cache of this dataset and preparation in <paramref name="directory"/>.</summary>
    /// <param name="pixelSize">Å/px of the prepared particles (the working box's, after any Fourier crop)</param>
    internal static PreparedParticleCache Open(string directory, string particlesPath, ParticleDataset data, ImageRotator rotator,
        ParticlePreparationOptions preparation, double pixelSize, ILogger log)
    {
        Directory.CreateDirectory(directory);
        var input = new FileInfo(particlesPath);
        string key = string.Join('|', "v1", input.FullName, input.Length, input.LastWriteTimeUtc.Ticks, data.Count, data.BoxSize, rotator.BoxSize,
            pixelSize.ToString("R", System.Globalization.CultureInfo.InvariantCulture), preparation, rotator.Options);
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        var probe = new ParticlePreparer(rotator, preparation).CreateParticle();
        var cache = new PreparedParticleCache(System.IO.Path.Combine(directory, $"prepared-{hash}.bin"), data.Count,
            probe.CumulativeEnergyTable.Length, probe.Image.Values.Length, pixelSize, preparation.InvertContrast);
        log.Information("Prepared particles cached in {Path} ({Bytes:N0} bytes per particle)", cache.Path, cache._recordBytes);
        return cache;
    }

    /// <summary>Fills <paramref name="destination"/> with the cached preparation of <paramref name="particle"/>; false when it has none.</summary>
    public bool TryLoad(int particle, in CtfParameters ctf, PreparedParticle destination)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)_recordBytes);
        try
        {
            var record = buffer.AsSpan(0, (int)_recordBytes);
            int done = 0;
            while (done < record.Length)
            {
                int n = RandomAccess.Read(_file, record[done..], particle * _recordBytes + done);
                if (n == 0) break;
                done += n;
            }
            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(record);
            if (done < record.Length || stored == 0 || stored != StateHash64.Compute(record[8..], (ulong)particle + 1))
            {
                Interlocked.Increment(ref _misses);
                return false;
            }
            Load(record[8..], ctf, destination);
            Interlocked.Increment(ref _hits);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Load(ReadOnlySpan<byte> span, in CtfParameters ctf, PreparedParticle destination)
    {
        double mean = BinaryPrimitives.ReadDoubleLittleEndian(span);
        double sigma = BinaryPrimitives.ReadDoubleLittleEndian(span[8..]);
        double total = BinaryPrimitives.ReadDoubleLittleEndian(span[16..]);
        int background = (int)BinaryPrimitives.ReadInt64LittleEndian(span[24..]);
        var energies = Values<double>(span.Slice(32, 8 * _energies));
        var transform = Values<float>(span.Slice(32 + 8 * _energies, 4 * _floats));
        destination.Restore(transform, energies, _pixelSize, ctf, mean, sigma, _invert, background, total);
    }

    /// <summary>Keeps a freshly prepared particle.</summary>
    public void Store(int particle, PreparedParticle prepared)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)_recordBytes);
        var record = buffer.AsSpan(0, (int)_recordBytes);
        var span = record[8..];
        BinaryPrimitives.WriteDoubleLittleEndian(span, prepared.BackgroundMean);
        BinaryPrimitives.WriteDoubleLittleEndian(span[8..], prepared.NoiseSigma);
        BinaryPrimitives.WriteDoubleLittleEndian(span[16..], prepared.TotalEnergy);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], prepared.BackgroundPixels);
        Bytes<double>(prepared.CumulativeEnergyTable).CopyTo(span[32..]);
        Bytes<float>(prepared.Image.Values).CopyTo(span[(32 + 8 * _energies)..]);
        BinaryPrimitives.WriteUInt64LittleEndian(record, StateHash64.Compute(span, (ulong)particle + 1));
        RandomAccess.Write(_file, record, particle * _recordBytes);
        ArrayPool<byte>.Shared.Return(buffer);
    }

    public void Dispose() => _file.Dispose();

    private static T[] Values<T>(ReadOnlySpan<byte> bytes) where T : unmanaged
    {
        var values = MemoryMarshal.Cast<byte, T>(bytes).ToArray();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the prepared-particle cache is little-endian");
        return values;
    }

    private static ReadOnlySpan<byte> Bytes<T>(ReadOnlySpan<T> values) where T : unmanaged =>
        BitConverter.IsLittleEndian ? MemoryMarshal.AsBytes(values) : throw new PlatformNotSupportedException("the prepared-particle cache is little-endian");
}
