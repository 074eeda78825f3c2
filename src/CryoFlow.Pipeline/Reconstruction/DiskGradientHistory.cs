using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CryoFlow.Formats.State;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>
/// SAGD's memory on disk (DESIGN 5): each minibatch's latest gradient is kept as the Fourier coefficients of the band
/// it was marginalised in, |k| &lt;= r* (<see cref="FourierBand"/>), one record per batch in a
/// <see cref="ParticleStateStore"/> keyed by batch id; the running sum and the weights stay in memory (two volumes
/// and n doubles). So the history costs about (2/3) pi r*^3 complex values per batch on disk instead of D^3 floats in
/// RAM, and nothing in memory per batch.
/// <para>When w* grows, a stored gradient keeps its old, smaller band until its batch comes round again (SAGD's
/// band-aware mean divides each shell by the weight of the batches whose band covers it); nothing is reset.</para>
/// <para>Record: float64 band radius (px; +inf for a gradient stored whole), then the packed band as little-endian
/// float32 pairs.</para>
/// </summary>
public sealed class DiskGradientHistory : IGradientHistory, IDisposable
{
    private readonly int _box;
    private readonly IFft3D _fft;
    private readonly float[] _sum, _spectrum;
    private double[] _weights;
    private readonly string _directory;
    private ParticleStateStore _store;
    private byte[] _record = [];
    private float[] _packed = [];

    private DiskGradientHistory(ParticleStateStore store, string directory, int batchCount, int box)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchCount, 1);
        FourierLayout.ValidateBoxSize(box);
        _store = store;
        _directory = directory;
        _box = box;
        _fft = FftBackends.Default.Plan3D(box);
        _sum = new float[checked(box * box * box)];
        _spectrum = new float[_fft.ComplexLength];
        _weights = new double[batchCount];
        BatchCount = batchCount;
    }

    /// <summary>An empty history in <paramref name="directory"/> (working files there are replaced).</summary>
    public static DiskGradientHistory Create(string directory, int batchCount, int box) =>
        new(ParticleStateStore.Create(directory, batchCount), directory, batchCount, box);

    /// <summary>The history saved by <see cref="Snapshot"/>, restored into <paramref name="directory"/>; the sum and weights are the caller's to restore.</summary>
    /// <exception cref="StateStoreFormatException">the snapshot is damaged or not one of <paramref name="batchCount"/> batches</exception>
    public static DiskGradientHistory Open(string snapshotPath, string directory, int batchCount, int box)
    {
        var store = ParticleStateStore.Open(snapshotPath, directory);
        if (store.ParticleCount != batchCount)
        {
            store.Dispose();
            throw new StateStoreFormatException("the gradient history holds another number of minibatches",
                new Formats.Errors.DataLocation(FilePath: snapshotPath, Expected: $"{batchCount}", Found: $"{store.ParticleCount}"));
        }
        return new DiskGradientHistory(store, directory, batchCount, box);
    }

    public int BatchCount { get; private set; }

    public void Grow(int batchCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchCount, BatchCount);
        _store.Grow(batchCount);
        Array.Resize(ref _weights, batchCount);
        BatchCount = batchCount;
    }

    public int Length => _sum.Length;

    public Span<float> Sum => _sum;

    public Span<double> Weights => _weights;

    /// <summary>Bytes the stored gradients take on disk (live records).</summary>
    public long StoredBytes => _store.Memory().LiveBytes;

    public bool Contains(int batch) => _store.GetLength(CheckBatch(batch)) >= 0;

    public bool TryRead(int batch, Span<float> destination)
    {
        int length = _store.GetLength(CheckBatch(batch));
        if (length < 0) return false;
        CheckLength(destination.Length, nameof(destination));
        if (_record.Length < length) _record = new byte[length];
        _store.Read(batch, _record);
        double radius = BinaryPrimitives.ReadDoubleLittleEndian(_record);
        var band = Packed(radius);
        var bytes = _record.AsSpan(sizeof(double), band.Length * sizeof(float));
        if (length != sizeof(double) + bytes.Length)
            throw new StateStoreFormatException("a stored gradient has the wrong length for its band",
                new Formats.Errors.DataLocation(FilePath: _store.DataPath, Record: batch, Expected: $"{sizeof(double) + bytes.Length} bytes", Found: $"{length}"));
        for (int i = 0; i < band.Length; i++) band[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
        FourierBand.Unpack(_box, radius, band, _spectrum);
        _fft.Inverse(_spectrum, destination);
        return true;
    }

    /// <summary>Stores the gradient whole (no band: every coefficient).</summary>
    public void Write(int batch, ReadOnlySpan<float> gradient)
    {
        var copy = gradient.ToArray();
        Write(batch, copy, double.PositiveInfinity);
    }

    /// <summary>Keeps the coefficients with |k| &lt;= <paramref name="bandRadius"/>; <paramref name="gradient"/> becomes their inverse transform.</summary>
    public void Write(int batch, Span<float> gradient, double bandRadius)
    {
        CheckBatch(batch);
        CheckLength(gradient.Length, nameof(gradient));
        if (double.IsNaN(bandRadius) || bandRadius < 0) throw new ArgumentOutOfRangeException(nameof(bandRadius), bandRadius, "the band radius must be >= 0");
        _fft.Forward(gradient, _spectrum);
        var band = Packed(bandRadius);
        FourierBand.Pack(_box, bandRadius, _spectrum, band);
        int length = sizeof(double) + band.Length * sizeof(float);
        if (_record.Length < length) _record = new byte[length];
        BinaryPrimitives.WriteDoubleLittleEndian(_record, bandRadius);
        var bytes = MemoryMarshal.AsBytes(band);
        if (BitConverter.IsLittleEndian) bytes.CopyTo(_record.AsSpan(sizeof(double)));
        else for (int i = 0; i < band.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(_record.AsSpan(sizeof(double) + 4 * i), band[i]);
        _store.Put(batch, _record.AsSpan(0, length));
        FourierBand.Unpack(_box, bandRadius, band, _spectrum);
        _fft.Inverse(_spectrum, gradient);
    }

    public void Clear()
    {
        _store.Dispose();
        _store = ParticleStateStore.Create(_directory, BatchCount);
        Array.Clear(_sum);
        Array.Clear(_weights);
    }

    /// <summary>Writes the stored gradients (not the sum and weights) as a state-store snapshot into <paramref name="output"/>.</summary>
    public void Snapshot(Stream output, string name) => _store.Snapshot(output, name);

    public void Dispose() => _store.Dispose();

    private Span<float> Packed(double radius)
    {
        int n = 2 * FourierBand.Count(_box, radius);
        if (_packed.Length < n) _packed = new float[n];
        return _packed.AsSpan(0, n);
    }

    private int CheckBatch(int batch)
    {
        if ((uint)batch >= (uint)BatchCount)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch ids are 0..{BatchCount - 1}");
        return batch;
    }

    private void CheckLength(int length, string name)
    {
        if (length != Length) throw new ArgumentException($"{length} floats where the history holds {Length}", name);
    }
}
