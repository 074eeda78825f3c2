using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Quadrature;

namespace CryoFlow.Numerics.Sampling;

/// <summary>
/// The three factors' samples of one particle combined with the level's quadrature log-weights into the spans of a
/// <see cref="PoseSubset"/>. Weights follow <see cref="PoseGrid.FromQuadrature"/> (a probability measure: directions
/// 1/M_d, in-plane 1/M_psi, shifts their prior mass) plus each point's importance log-weight; direction indices are
/// the level's direction indices (the slice set must hold the level's directions in order). Buffers grow and are
/// reused; one per worker.
/// </summary>
public sealed class PoseSampleSet
{
    private int[] _dir = [];
    private double[] _dirW = [], _psi = [], _psiW = [], _shiftW = [];
    private float[] _sx = [], _sy = [];
    private int _nd, _np, _nt;

    /// <summary>Fill from the three workspaces (each holding the last <see cref="FactorSampler.Sample"/> of its factor).</summary>
    public void Build(QuadratureLevel level, SamplingWorkspace directions, SamplingWorkspace inPlane, SamplingWorkspace shifts)
    {
        ArgumentNullException.ThrowIfNull(level);
        ArgumentNullException.ThrowIfNull(directions);
        ArgumentNullException.ThrowIfNull(inPlane);
        ArgumentNullException.ThrowIfNull(shifts);
        _nd = directions.Count;
        _np = inPlane.Count;
        _nt = shifts.Count;
        Grow(ref _dir, _nd); Grow(ref _dirW, _nd);
        Grow(ref _psi, _np); Grow(ref _psiW, _np);
        Grow(ref _sx, _nt); Grow(ref _sy, _nt); Grow(ref _shiftW, _nt);
        double log4Pi = Math.Log(4 * Math.PI);
        for (int s = 0; s < _nd; s++)
        {
            int j = Checked(directions.Indices[s], level.Directions.Length);
            _dir[s] = j;
            _dirW[s] = level.DirectionLogWeights[j] - log4Pi + directions.LogWeights[s];
        }
        for (int s = 0; s < _np; s++)
        {
            int k = Checked(inPlane.Indices[s], level.InPlaneAngles.Length);
            _psi[s] = level.InPlaneAngles[k];
            _psiW[s] = level.InPlaneLogWeights[k] + inPlane.LogWeights[s];
        }
        for (int s = 0; s < _nt; s++)
        {
            int l = Checked(shifts.Indices[s], level.Shifts.Length);
            _sx[s] = (float)level.Shifts[l].X;
            _sy[s] = (float)level.Shifts[l].Y;
            _shiftW[s] = level.ShiftLogWeights[l] + shifts.LogWeights[s];
        }
    }

    /// <summary>N_d N_p N_t of the last build.</summary>
    public long PoseCount => (long)_nd * _np * _nt;

    /// <summary>The last build as a subset; valid until the next <see cref="Build"/>.</summary>
    public PoseSubset AsSubset() => new()
    {
        Directions = _dir.AsSpan(0, _nd),
        DirectionLogWeights = _dirW.AsSpan(0, _nd),
        InPlaneAngles = _psi.AsSpan(0, _np),
        InPlaneLogWeights = _psiW.AsSpan(0, _np),
        ShiftX = _sx.AsSpan(0, _nt),
        ShiftY = _sy.AsSpan(0, _nt),
        ShiftLogWeights = _shiftW.AsSpan(0, _nt),
    };

    private static int Checked(int i, int m) =>
        (uint)i < (uint)m ? i : throw new ArgumentException($"sample index {i} is outside the level ({m} points); was the workspace sampled on another level?");

    private static void Grow<T>(ref T[] a, int n)
    {
        if (a.Length < n) a = new T[Math.Max(n, 2 * a.Length)];
    }
}
