using System.Buffers.Binary;

namespace CryoFlow.Numerics.Sampling;

/// <summary>
/// One particle's memory of one factor: the distinct points evaluated at its last visit and their annealed posterior
/// marginal phi_i^(1/T), normalised to sum 1 (linear), on the level <see cref="LevelId"/>, recorded at
/// <see cref="Iteration"/> (the caller derives the next visit's uniform share from it, REFERENCE 4.5).
/// 12 B per point + 12 B header. Immutable.
/// </summary>
public sealed class FactorState
{
    /// <summary>Bytes before the points: level id, iteration, count (int32 little-endian each).</summary>
    public const int HeaderSize = 12;

    /// <summary>Bytes per stored point: int32 index + float64 value.</summary>
    public const int BytesPerPoint = 12;

    private readonly int[] _indices;
    private readonly double[] _values;

    /// <param name="indices">distinct point indices on the level</param>
    /// <param name="values">annealed normalised marginal per index: finite, &gt;= 0, summing to 1 (checked to 1e-6)</param>
    public FactorState(int levelId, int iteration, ReadOnlySpan<int> indices, ReadOnlySpan<double> values)
    {
        if (indices.Length != values.Length) throw new ArgumentException("one value per index", nameof(values));
        if (indices.Length == 0) throw new ArgumentException("a state needs at least one point", nameof(indices));
        double sum = 0;
        foreach (double v in values)
        {
            if (!(v >= 0) || double.IsInfinity(v)) throw new ArgumentException($"value {v} is not a finite probability", nameof(values));
            sum += v;
        }
        if (Math.Abs(sum - 1) > 1e-6) throw new ArgumentException($"values sum to {sum}, not 1", nameof(values));
        foreach (int i in indices)
            if (i < 0) throw new ArgumentException($"negative index {i}", nameof(indices));
        LevelId = levelId;
        Iteration = iteration;
        _indices = indices.ToArray();
        _values = values.ToArray();
    }

    public int LevelId { get; }

    public int Iteration { get; }

    public int Count => _indices.Length;

    public ReadOnlySpan<int> Indices => _indices;

    public ReadOnlySpan<double> Values => _values;

    public int SerializedSize => HeaderSize + BytesPerPoint * _indices.Length;

    /// <summary>Write the state (little-endian); returns the bytes written (= <see cref="SerializedSize"/>).</summary>
    public int WriteTo(Span<byte> destination)
    {
        if (destination.Length < SerializedSize) throw new ArgumentException($"need {SerializedSize} bytes, got {destination.Length}", nameof(destination));
        BinaryPrimitives.WriteInt32LittleEndian(destination, LevelId);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Iteration);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], _indices.Length);
        int o = HeaderSize;
        for (int k = 0; k < _indices.Length; k++, o += 4) BinaryPrimitives.WriteInt32LittleEndian(destination[o..], _indices[k]);
        for (int k = 0; k < _values.Length; k++, o += 8) BinaryPrimitives.WriteDoubleLittleEndian(destination[o..], _values[k]);
        return o;
    }

    /// <summary>Read a state written by <see cref="WriteTo"/>; trailing bytes are ignored.</summary>
    public static FactorState Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < HeaderSize) throw new ArgumentException($"state header needs {HeaderSize} bytes, got {source.Length}", nameof(source));
        int level = BinaryPrimitives.ReadInt32LittleEndian(source);
        int iteration = BinaryPrimitives.ReadInt32LittleEndian(source[4..]);
        int n = BinaryPrimitives.ReadInt32LittleEndian(source[8..]);
        if (n <= 0 || (long)HeaderSize + (long)BytesPerPoint * n > source.Length)
            throw new ArgumentException($"state declares {n} points but holds {source.Length} bytes", nameof(source));
        var idx = new int[n];
        var val = new double[n];
        int o = HeaderSize;
        for (int k = 0; k < n; k++, o += 4) idx[k] = BinaryPrimitives.ReadInt32LittleEndian(source[o..]);
        for (int k = 0; k < n; k++, o += 8) val[k] = BinaryPrimitives.ReadDoubleLittleEndian(source[o..]);
        return new FactorState(level, iteration, idx, val);
    }

    /// <summary>
    /// Record a visit (REFERENCE 4.3): from the posterior marginal over the evaluated points (which carries quadrature
    /// x importance weight), divide out the importance weight, anneal by 1/T, renormalise. Points whose annealed value
    /// falls below <paramref name="pruneRelative"/> of the largest are dropped to keep the state small.
    /// </summary>
    /// <param name="indices">[n] distinct evaluated indices on the level</param>
    /// <param name="logImportanceWeights">[n] log importance weight each point was evaluated with (0 on a full grid)</param>
    /// <param name="posterior">[n] the marginaliser's posterior marginal over those points (any positive scale)</param>
    /// <param name="temperature">T &gt;= 1</param>
    /// <param name="pruneRelative">in [0, 1): 0 keeps every point with a positive value</param>
    public static FactorState Record(int levelId, int iteration, ReadOnlySpan<int> indices, ReadOnlySpan<double> logImportanceWeights,
        ReadOnlySpan<double> posterior, double temperature, double pruneRelative = 1e-10)
    {
        int n = indices.Length;
        if (logImportanceWeights.Length != n || posterior.Length != n) throw new ArgumentException("indices, weights and posterior must have one length");
        if (!(temperature >= 1)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "must be >= 1");
        if (!(pruneRelative >= 0 && pruneRelative < 1)) throw new ArgumentOutOfRangeException(nameof(pruneRelative), pruneRelative, "must be in [0, 1)");
        var logv = new double[n];
        double max = double.NegativeInfinity;
        for (int k = 0; k < n; k++)
        {
            logv[k] = posterior[k] > 0 ? (Math.Log(posterior[k]) - logImportanceWeights[k]) / temperature : double.NegativeInfinity;
            if (double.IsNaN(logv[k])) throw new ArgumentException($"posterior {posterior[k]} or weight {logImportanceWeights[k]} at {k} is not usable");
            max = Math.Max(max, logv[k]);
        }
        if (double.IsNegativeInfinity(max) || double.IsPositiveInfinity(max)) throw new ArgumentException("the posterior has no finite positive value", nameof(posterior));
        double floor = pruneRelative > 0 ? Math.Log(pruneRelative) : double.NegativeInfinity;
        int kept = 0;
        double sum = 0;
        for (int k = 0; k < n; k++)
        {
            double d = logv[k] - max;
            if (d < floor || double.IsNegativeInfinity(d)) continue;
            sum += Math.Exp(d);
            kept++;
        }
        var idx = new int[kept];
        var val = new double[kept];
        int o = 0;
        for (int k = 0; k < n; k++)
        {
            double d = logv[k] - max;
            if (d < floor || double.IsNegativeInfinity(d)) continue;
            idx[o] = indices[k];
            val[o++] = Math.Exp(d) / sum;
        }
        return new FactorState(levelId, iteration, idx, val);
    }
}
