namespace CryoFlow.Numerics.Sampling;

/// <summary>
/// Sparse kernel K(i, j) from every point i of a source domain (where states were recorded) to the points j of a
/// target domain (where samples are drawn), truncated where the kernel falls below <c>epsilon</c> of its peak.
/// Compressed rows: row i lists the targets j with K(i, j) &gt;= epsilon, the values, their sum S_i and the running
/// cumulative K(i, j) / S_i for drawing a neighbour. With chirality flip, K(i, j) = max(K(a_i, b_j), K(-a_i, b_j)).
/// Built once per (source level, target level, flip); neighbours are found with a uniform cell grid over the targets,
/// so building costs O(M_source x neighbours + M_target), never O(M_source x M_target). Immutable.
/// </summary>
public sealed class KernelTable
{
    /// <summary>Default truncation: K below 1e-4 of its peak (4.3 sigma) is dropped.</summary>
    public const double DefaultEpsilon = 1e-4;

    private readonly int[] _rowStart, _target;
    private readonly double[] _value, _cumulative, _rowSum;

    private KernelTable(FactorDomain source, FactorDomain target, bool flip, double epsilon,
        int[] rowStart, int[] targetIndex, double[] value, double[] cumulative, double[] rowSum)
    {
        Source = source;
        Target = target;
        Flip = flip;
        Epsilon = epsilon;
        _rowStart = rowStart;
        _target = targetIndex;
        _value = value;
        _cumulative = cumulative;
        _rowSum = rowSum;
    }

    public FactorDomain Source { get; }

    public FactorDomain Target { get; }

    public bool Flip { get; }

    public double Epsilon { get; }

    /// <summary>Stored kernel values over all rows.</summary>
    public int EntryCount => _target.Length;

    /// <summary>Mean neighbours per source point.</summary>
    public double MeanNeighbours => (double)_target.Length / Source.Count;

    /// <summary>Target indices of row i.</summary>
    public ReadOnlySpan<int> Neighbours(int i) => _target.AsSpan(_rowStart[i], _rowStart[i + 1] - _rowStart[i]);

    /// <summary>K(i, j) for the targets of row i, same order as <see cref="Neighbours"/>.</summary>
    public ReadOnlySpan<double> Values(int i) => _value.AsSpan(_rowStart[i], _rowStart[i + 1] - _rowStart[i]);

    /// <summary>Running sum of K(i, j) / S_i over row i, ending at 1 (empty row: empty).</summary>
    public ReadOnlySpan<double> Cumulative(int i) => _cumulative.AsSpan(_rowStart[i], _rowStart[i + 1] - _rowStart[i]);

    /// <summary>S_i = sum over targets of K(i, j) (0 for a row with no target inside the truncation radius).</summary>
    public double RowSum(int i) => _rowSum[i];

    /// <summary>Build the truncated kernel from <paramref name="source"/> to <paramref name="target"/>.</summary>
    /// <param name="flip">chirality flip (ignored for shifts)</param>
    /// <param name="epsilon">relative truncation, in (0, 1)</param>
    public static KernelTable Build(FactorDomain source, FactorDomain target, bool flip, double epsilon = DefaultEpsilon)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.Kind != target.Kind) throw new ArgumentException($"source is {source.Kind}, target is {target.Kind}", nameof(target));
        if (!(epsilon > 0 && epsilon < 1)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "must be in (0, 1)");
        flip &= source.SupportsFlip;
        double radiusPerSigma = Math.Sqrt(2 * Math.Log(1 / epsilon));
        var grid = new CellGrid(target, MaxFiniteCutoff(source, radiusPerSigma));

        int ms = source.Count, mt = target.Count;
        var rowStart = new int[ms + 1];
        var targets = new List<int>(ms * 16);
        var values = new List<double>(ms * 16);
        var rowSum = new double[ms];
        var scratch = new double[mt];
        var touched = new List<int>(64);
        var sx = source.X;
        var sy = source.Y;
        var sz = source.Z;
        for (int i = 0; i < ms; i++)
        {
            double sigma = source.Sigma[i];
            touched.Clear();
            if (double.IsPositiveInfinity(sigma))
            {
                for (int j = 0; j < mt; j++)
                {
                    scratch[j] = 1;
                    touched.Add(j);
                }
            }
            else
            {
                double inv2s2 = 1 / (2 * sigma * sigma), cutoff = sigma * radiusPerSigma;
                grid.Collect(target, sx[i], sy[i], sz[i], cutoff, inv2s2, epsilon, scratch, touched);
                if (flip) grid.Collect(target, -sx[i], -sy[i], -sz[i], cutoff, inv2s2, epsilon, scratch, touched);
            }
            double sum = 0;
            foreach (int j in touched)
            {
                targets.Add(j);
                values.Add(scratch[j]);
                sum += scratch[j];
                scratch[j] = 0;
            }
            rowSum[i] = sum;
            rowStart[i + 1] = targets.Count;
        }

        var value = values.ToArray();
        var cumulative = new double[value.Length];
        for (int i = 0; i < ms; i++)
        {
            double run = 0;
            for (int e = rowStart[i]; e < rowStart[i + 1]; e++)
            {
                run += value[e];
                cumulative[e] = run / rowSum[i];
            }
            if (rowStart[i + 1] > rowStart[i]) cumulative[rowStart[i + 1] - 1] = 1;
        }
        return new KernelTable(source, target, flip, epsilon, rowStart, targets.ToArray(), value, cumulative, rowSum);
    }

    private static double MaxFiniteCutoff(FactorDomain source, double radiusPerSigma)
    {
        double h = 0;
        foreach (double s in source.Sigma)
            if (!double.IsPositiveInfinity(s)) h = Math.Max(h, s * radiusPerSigma);
        return h > 0 ? h : 1;
    }

    /// <summary>Uniform cell grid over the target points, cell side &gt;= the largest truncation radius.</summary>
    private sealed class CellGrid
    {
        private readonly double _minX, _minY, _minZ, _h;
        private readonly int _nx, _ny, _nz;
        private readonly int[] _cellStart, _points;

        public CellGrid(FactorDomain target, double cell)
        {
            int m = target.Count;
            _minX = Min(target.X); _minY = Min(target.Y); _minZ = Min(target.Z);
            double ex = Max(target.X) - _minX, ey = Max(target.Y) - _minY, ez = Max(target.Z) - _minZ;
            _h = cell;
            // keep the cell count O(M): a tiny bandwidth must not make a huge empty grid
            while (true)
            {
                _nx = (int)Math.Min(1 << 20, Math.Floor(ex / _h) + 1);
                _ny = (int)Math.Min(1 << 20, Math.Floor(ey / _h) + 1);
                _nz = (int)Math.Min(1 << 20, Math.Floor(ez / _h) + 1);
                if ((double)_nx * _ny * _nz <= 8.0 * m + 64) break;
                _h *= 1.5;
            }
            _cellStart = new int[_nx * _ny * _nz + 1];
            var cellOf = new int[m];
            for (int j = 0; j < m; j++)
            {
                cellOf[j] = Cell(Axis(target.X[j], _minX, _nx), Axis(target.Y[j], _minY, _ny), Axis(target.Z[j], _minZ, _nz));
                _cellStart[cellOf[j] + 1]++;
            }
            for (int c = 0; c < _cellStart.Length - 1; c++) _cellStart[c + 1] += _cellStart[c];
            var fill = (int[])_cellStart.Clone();
            _points = new int[m];
            for (int j = 0; j < m; j++) _points[fill[cellOf[j]]++] = j;
        }

        /// <summary>Max-merge exp(-|p - b_j|^2 inv2s2) &gt;= epsilon into scratch for every target within cutoff of p.</summary>
        public void Collect(FactorDomain target, double px, double py, double pz, double cutoff, double inv2s2, double epsilon,
            double[] scratch, List<int> touched)
        {
            if (!Range(px, cutoff, _minX, _nx, out int x0, out int x1) || !Range(py, cutoff, _minY, _ny, out int y0, out int y1)
                || !Range(pz, cutoff, _minZ, _nz, out int z0, out int z1)) return;
            var tx = target.X;
            var ty = target.Y;
            var tz = target.Z;
            for (int iz = z0; iz <= z1; iz++)
                for (int iy = y0; iy <= y1; iy++)
                    for (int ix = x0; ix <= x1; ix++)
                    {
                        int c = Cell(ix, iy, iz);
                        for (int e = _cellStart[c]; e < _cellStart[c + 1]; e++)
                        {
                            int j = _points[e];
                            double dx = tx[j] - px, dy = ty[j] - py, dz = tz[j] - pz;
                            double v = Math.Exp(-(dx * dx + dy * dy + dz * dz) * inv2s2);
                            if (v < epsilon) continue;
                            if (scratch[j] == 0) touched.Add(j);
                            if (v > scratch[j]) scratch[j] = v;
                        }
                    }
        }

        private int Cell(int ix, int iy, int iz) => (iz * _ny + iy) * _nx + ix;

        private int Axis(double v, double min, int n) => Math.Clamp((int)Math.Floor((v - min) / _h), 0, n - 1);

        private bool Range(double p, double cutoff, double min, int n, out int lo, out int hi)
        {
            double a = Math.Floor((p - cutoff - min) / _h), b = Math.Floor((p + cutoff - min) / _h);
            lo = (int)Math.Max(0, Math.Min(a, n));
            hi = (int)Math.Min(n - 1, Math.Max(b, -1));
            return lo <= hi;
        }

        private static double Min(ReadOnlySpan<double> v)
        {
            double m = double.PositiveInfinity;
            foreach (double x in v) m = Math.Min(m, x);
            return m;
        }

        private static double Max(ReadOnlySpan<double> v)
        {
            double m = double.NegativeInfinity;
            foreach (double x in v) m = Math.Max(m, x);
            return m;
        }
    }
}
