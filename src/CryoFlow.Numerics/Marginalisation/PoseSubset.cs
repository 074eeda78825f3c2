using CryoFlow.Numerics.Quadrature;

namespace CryoFlow.Numerics.Marginalisation;

/// <summary>
/// The poses one particle is marginalised over: the Cartesian product of sampled directions (indices into a
/// <see cref="SliceSet"/>), in-plane angles and slice-frame shifts, each with log-weights (quadrature weight x prior x
/// importance weight). The exhaustive grid is a <see cref="PoseGrid"/>; importance-sampled subsets are built by the
/// caller in the same form. Lengths: the three pairs must agree.
/// </summary>
public readonly ref struct PoseSubset
{
    /// <summary>[N_d] indices into the slice set; duplicates are allowed (each counts as its own point).</summary>
    public required ReadOnlySpan<int> Directions { get; init; }

    /// <summary>[N_d] log-weight per direction; finite or -inf (excluded).</summary>
    public required ReadOnlySpan<double> DirectionLogWeights { get; init; }

    /// <summary>[N_p] in-plane angles psi, radians (the image is rotated: A_psi(k) = I(R2(psi) k)).</summary>
    public required ReadOnlySpan<double> InPlaneAngles { get; init; }

    /// <summary>[N_p] log-weights.</summary>
    public required ReadOnlySpan<double> InPlaneLogWeights { get; init; }

    /// <summary>
    /// [N_t] shift x, px, in the slice frame and the kernel's convention: the phase exp(+2 pi i k.t / D) re-centres a
    /// particle displaced by +t in the rotated image (<see cref="PoseConventions"/> maps it to RELION's origin).
    /// </summary>
    public required ReadOnlySpan<float> ShiftX { get; init; }

    /// <summary>[N_t] shift y, px.</summary>
    public required ReadOnlySpan<float> ShiftY { get; init; }

    /// <summary>[N_t] log-weights.</summary>
    public required ReadOnlySpan<double> ShiftLogWeights { get; init; }
}

/// <summary>
/// An exhaustive pose grid held in arrays: every direction of a slice set x in-plane angles x shifts.
/// Immutable; <see cref="AsSubset"/> is free.
/// </summary>
public sealed class PoseGrid
{
    private readonly int[] _directions;
    private readonly double[] _directionLogWeights, _psi, _psiLogWeights, _shiftLogWeights;
    private readonly float[] _shiftX, _shiftY;

    /// <param name="directionLogWeights">one per slice-set direction (the grid uses directions 0..N_d-1 in order)</param>
    /// <param name="inPlaneAngles">radians</param>
    /// <param name="inPlaneLogWeights">one per angle</param>
    /// <param name="shifts">slice-frame shifts, px (kernel convention, see <see cref="PoseSubset.ShiftX"/>)</param>
    /// <param name="shiftLogWeights">one per shift</param>
    public PoseGrid(ReadOnlySpan<double> directionLogWeights, ReadOnlySpan<double> inPlaneAngles, ReadOnlySpan<double> inPlaneLogWeights,
        ReadOnlySpan<(double X, double Y)> shifts, ReadOnlySpan<double> shiftLogWeights)
    {
        if (inPlaneAngles.Length != inPlaneLogWeights.Length) throw new ArgumentException("one log-weight per in-plane angle", nameof(inPlaneLogWeights));
        if (shifts.Length != shiftLogWeights.Length) throw new ArgumentException("one log-weight per shift", nameof(shiftLogWeights));
        _directions = new int[directionLogWeights.Length];
        for (int i = 0; i < _directions.Length; i++) _directions[i] = i;
        _directionLogWeights = directionLogWeights.ToArray();
        _psi = inPlaneAngles.ToArray();
        _psiLogWeights = inPlaneLogWeights.ToArray();
        _shiftX = new float[shifts.Length];
        _shiftY = new float[shifts.Length];
        for (int i = 0; i < shifts.Length; i++)
        {
            _shiftX[i] = (float)shifts[i].X;
            _shiftY[i] = (float)shifts[i].Y;
        }
        _shiftLogWeights = shiftLogWeights.ToArray();
    }

    /// <summary>
    /// The full quadrature of a level, as a probability measure over poses: direction weights 1/M_d (the level's
    /// 4 pi / M_d divided by the sphere's area 4 pi, i.e. the uniform prior), in-plane 1/M_psi, shifts their normalised
    /// Gaussian prior mass. The level's shift nodes are used as slice-frame shifts unchanged: the grid and its prior are
    /// symmetric under t -&gt; -t, so the sign convention of the nodes does not matter.
    /// </summary>
    public static PoseGrid FromQuadrature(QuadratureLevel level)
    {
        ArgumentNullException.ThrowIfNull(level);
        var lwd = new double[level.Directions.Length];
        double log4Pi = Math.Log(4 * Math.PI);
        for (int i = 0; i < lwd.Length; i++) lwd[i] = level.DirectionLogWeights[i] - log4Pi;
        var shifts = new (double, double)[level.Shifts.Length];
        for (int i = 0; i < shifts.Length; i++) shifts[i] = (level.Shifts[i].X, level.Shifts[i].Y);
        return new PoseGrid(lwd, level.InPlaneAngles, level.InPlaneLogWeights, shifts, level.ShiftLogWeights);
    }

    public int DirectionCount => _directions.Length;

    public int InPlaneCount => _psi.Length;

    public int ShiftCount => _shiftX.Length;

    /// <summary>N_d N_p N_t.</summary>
    public long PoseCount => (long)DirectionCount * InPlaneCount * ShiftCount;

    public ReadOnlySpan<double> InPlaneAngles => _psi;

    public ReadOnlySpan<float> ShiftX => _shiftX;

    public ReadOnlySpan<float> ShiftY => _shiftY;

    /// <summary>The grid as a <see cref="PoseSubset"/> over slice-set directions 0..N_d-1.</summary>
    public PoseSubset AsSubset() => new()
    {
        Directions = _directions,
        DirectionLogWeights = _directionLogWeights,
        InPlaneAngles = _psi,
        InPlaneLogWeights = _psiLogWeights,
        ShiftX = _shiftX,
        ShiftY = _shiftY,
        ShiftLogWeights = _shiftLogWeights,
    };
}
