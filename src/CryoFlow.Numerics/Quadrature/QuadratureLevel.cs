using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Quadrature;

/// <summary>Shift rule: Gauss-Hermite (Gaussian weight built in) or Gauss-Legendre times the Gaussian prior.</summary>
public enum ShiftRule
{
    /// <summary>Nodes: Gauss-Hermite nodes * sqrt(2) sigma, dropped where |x| &gt;= E. Weights: the Hermite weights.</summary>
    Hermite,

    /// <summary>Nodes: Gauss-Legendre nodes * E. Weights: Legendre weights * exp(-x^2 / 2 sigma^2).</summary>
    Legendre,

    /// <summary>
    /// Nodes: a regular grid of spacing E / ((deg - 1) / 2) on each axis, inside the disc |t| &lt;= E. Weights: the
    /// Gaussian prior exp(-|t|^2 / 2 sigma^2). Unlike the Gauss rules, whose nodes follow the prior and spread far from
    /// the centre, the spacing is the same everywhere, so every particle's shift is within half a spacing of a node, as
    /// in RELION's offset grid. The likelihood is sharp in the shift at high resolution, so this is the rule for
    /// reaching it (CryoFlow).
    /// </summary>
    Grid,
}

/// <summary>
/// What a quadrature level is built from. Defaults follow the reference configuration (sigma 10 Å, extent 60 Å,
/// Hermite, one undersampling factor of 1) except the shift spacing, which is the paper's one sample per period.
/// </summary>
/// <param name="BoxSize">D, px</param>
/// <param name="PixelSize">apix, Å/px</param>
/// <param name="MaxFrequency">w*, 1/Å</param>
public sealed record QuadratureSpec(int BoxSize, double PixelSize, double MaxFrequency)
{
    /// <summary>Undersampling of the direction grid (alpha -> us alpha).</summary>
    public double UndersampleDirections { get; init; } = 1;

    /// <summary>Undersampling of the in-plane grid.</summary>
    public double UndersampleInPlane { get; init; } = 1;

    /// <summary>Undersampling of the shift grid.</summary>
    public double UndersampleShifts { get; init; } = 1;

    /// <summary>Shift samples per period at w* (1: paper; 2: reference code).</summary>
    public double ShiftSamplesPerPeriod { get; init; } = 1;

    /// <summary>When set, the 1D shift rule's degree, overriding the sizing formula (1 = no shift search).</summary>
    public int? ShiftPointsPerAxis { get; init; }

    /// <summary>Standard deviation of the Gaussian shift prior, Å.</summary>
    public double ShiftSigmaAngst { get; init; } = 10;

    /// <summary>Half-width E of the shift search (a disc of radius E), Å.</summary>
    public double ShiftExtentAngst { get; init; } = 60;

    public ShiftRule ShiftRule { get; init; } = ShiftRule.Hermite;

    /// <summary>Asymmetric-unit restriction of the directions.</summary>
    public ISymmetryRestriction Symmetry { get; init; } = C1Symmetry.Instance;
}

/// <summary>
/// The factored pose quadrature at one resolution: directions x in-plane angles x shifts, each with log-weights.
/// <list type="bullet">
/// <item><b>Directions</b>: Saff-Kuijlaars points d_j over the full sphere (then restricted by the symmetry);
/// weights 4 pi / M_d, rescaled to sum to 4 pi after restriction. Each comes with RELION Euler angles
/// (rot, tilt, 0) = (atan2(d_y, d_x), arccos(d_z), 0) and their matrix A_j = Euler.ToMatrix(), whose bottom
/// row is d_j, so the pose (direction j, in-plane psi) is exactly Euler(rot_j, tilt_j, psi) = Rz(psi) A_j
/// (see <c>ImageRotator</c>).</item>
/// <item><b>In-plane</b>: psi_k = 2 pi k / M_psi + pi / M_psi, radians; weights 1 / M_psi (sum 1; multiply by
/// 2 pi for the measure d psi).</item>
/// <item><b>Shifts</b>: tensor-product rule (<see cref="ShiftRule"/>) kept inside the disc |t| &lt; E, in px
/// (+x = content moves to larger column index, <see cref="ShiftPhases"/>); weights = the prior mass of each
/// node, normalised to sum 1.</item>
/// </list>
/// Immutable.
/// </summary>
public sealed class QuadratureLevel
{
    private readonly UnitVector[] _directions;
    private readonly EulerAngles[] _angles;
    private readonly Rotation3[] _rotations;
    private readonly double[] _directionLogWeights, _inPlane, _inPlaneLogWeights, _shiftLogWeights, _shiftResolution;
    private readonly PixelShift[] _shifts;

    private QuadratureLevel(QuadratureSpec spec)
    {
        if (spec.BoxSize < 2) throw new ArgumentOutOfRangeException(nameof(spec), spec.BoxSize, "box size must be >= 2");
        if (!(spec.PixelSize > 0)) throw new ArgumentOutOfRangeException(nameof(spec), spec.PixelSize, "pixel size must be positive");
        if (!(spec.MaxFrequency > 0)) throw new ArgumentOutOfRangeException(nameof(spec), spec.MaxFrequency, "max frequency must be positive");
        if (!(spec.UndersampleDirections > 0 && spec.UndersampleInPlane > 0 && spec.UndersampleShifts > 0 && spec.ShiftSamplesPerPeriod > 0))
            throw new ArgumentOutOfRangeException(nameof(spec), "undersampling factors and samples per period must be positive");
        if (!(spec.ShiftSigmaAngst > 0 && spec.ShiftExtentAngst > 0))
            throw new ArgumentOutOfRangeException(nameof(spec), "shift sigma and extent must be positive");
        ArgumentNullException.ThrowIfNull(spec.Symmetry);
        Spec = spec;
        Radius = QuadratureSizing.CutoffRadius(spec.MaxFrequency, spec.BoxSize, spec.PixelSize);
        Alpha = QuadratureSizing.BasicAngle(Radius);

        // directions
        int md = QuadratureSizing.DirectionCount(Radius, spec.UndersampleDirections);
        FullSphereDirectionCount = md;
        var all = SphereQuadrature.SaffKuijlaars(md);
        _directions = all.Where(spec.Symmetry.ContainsDirection).ToArray();
        if (_directions.Length == 0) throw new InvalidOperationException($"no direction of {md} lies in the asymmetric unit of {spec.Symmetry.Name}");
        _angles = new EulerAngles[_directions.Length];
        _rotations = new Rotation3[_directions.Length];
        for (int j = 0; j < _directions.Length; j++)
        {
            var d = _directions[j];
            double rot = Math.Atan2(d.Y, d.X) * 180 / Math.PI, tilt = Math.Acos(Math.Clamp(d.Z, -1, 1)) * 180 / Math.PI;
            _angles[j] = new EulerAngles(rot, tilt, 0);
            _rotations[j] = _angles[j].ToMatrix();
        }
        _directionLogWeights = Enumerable.Repeat(Math.Log(4 * Math.PI / _directions.Length), _directions.Length).ToArray();
        DirectionResolution = Math.Max(Alpha / 2, 3.6 / Math.Sqrt(md));

        // in-plane angles
        int mpsi = QuadratureSizing.InPlaneCount(Radius, spec.UndersampleInPlane);
        _inPlane = Enumerable.Range(0, mpsi).Select(k => 2 * Math.PI * k / mpsi + Math.PI / mpsi).ToArray();
        _inPlaneLogWeights = Enumerable.Repeat(-Math.Log(mpsi), mpsi).ToArray();
        InPlaneResolution = Math.Max(Alpha / 2, 2 * Math.PI / mpsi);

        // shifts
        double sigma = spec.ShiftSigmaAngst / spec.PixelSize, extent = spec.ShiftExtentAngst / spec.PixelSize;
        int deg = spec.ShiftPointsPerAxis ?? QuadratureSizing.ShiftPointsPerAxis(extent, Radius, spec.BoxSize, spec.UndersampleShifts, spec.ShiftSamplesPerPeriod);
        if (deg < 1) throw new ArgumentOutOfRangeException(nameof(spec), deg, "shift points per axis must be >= 1");
        ShiftPointsPerAxis = deg;
        (_shifts, _shiftLogWeights) = BuildShifts(deg, sigma, extent, spec.ShiftRule);
        _shiftResolution = NearestNeighbourDistances(_shifts);
    }

    /// <summary>Build the level for a spec.</summary>
    public static QuadratureLevel Create(QuadratureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new QuadratureLevel(spec);
    }

    public QuadratureSpec Spec { get; }

    /// <summary>r* = w* D apix, Fourier pixels.</summary>
    public double Radius { get; }

    /// <summary>alpha(r*), radians, without undersampling.</summary>
    public double Alpha { get; }

    /// <summary>M_d over the full sphere, before the symmetry restriction.</summary>
    public int FullSphereDirectionCount { get; }

    /// <summary>Directions kept (in the asymmetric unit).</summary>
    public ReadOnlySpan<UnitVector> Directions => _directions;

    /// <summary>RELION angles (rot, tilt, 0) per direction, degrees.</summary>
    public ReadOnlySpan<EulerAngles> DirectionAngles => _angles;

    /// <summary>A_j = DirectionAngles[j].ToMatrix(); bottom row = Directions[j].</summary>
    public ReadOnlySpan<Rotation3> DirectionRotations => _rotations;

    /// <summary>log(4 pi / kept count) each (sum of weights 4 pi).</summary>
    public ReadOnlySpan<double> DirectionLogWeights => _directionLogWeights;

    /// <summary>Kernel bandwidth for directions, radians: max(alpha/2, 3.6/sqrt(M_d)).</summary>
    public double DirectionResolution { get; }

    /// <summary>psi_k, radians.</summary>
    public ReadOnlySpan<double> InPlaneAngles => _inPlane;

    /// <summary>log(1/M_psi) each.</summary>
    public ReadOnlySpan<double> InPlaneLogWeights => _inPlaneLogWeights;

    /// <summary>Kernel bandwidth for in-plane angles, radians: max(alpha/2, 2 pi / M_psi).</summary>
    public double InPlaneResolution { get; }

    /// <summary>Shift rule degree per axis before the disc truncation.</summary>
    public int ShiftPointsPerAxis { get; }

    /// <summary>Shift nodes, px.</summary>
    public ReadOnlySpan<PixelShift> Shifts => _shifts;

    /// <summary>log of each shift's normalised prior weight (weights sum to 1).</summary>
    public ReadOnlySpan<double> ShiftLogWeights => _shiftLogWeights;

    /// <summary>Per shift node, the distance to its nearest neighbour, px (0 for a single node): a kernel bandwidth.</summary>
    public ReadOnlySpan<double> ShiftResolution => _shiftResolution;

    /// <summary>M_d * M_psi * M_t.</summary>
    public long PoseCount => (long)_directions.Length * _inPlane.Length * _shifts.Length;

    private static (PixelShift[], double[]) BuildShifts(int deg, double sigma, double extent, ShiftRule rule)
    {
        if (deg == 1) return ([new PixelShift(0, 0)], [0.0]);
        double[] x, w;
        if (rule == ShiftRule.Hermite)
        {
            var (n, wt) = GaussRules.Hermite(deg);
            var keep = Enumerable.Range(0, deg).Where(i => Math.Abs(n[i] * Math.Sqrt(2) * sigma) < extent).ToArray();
            x = keep.Select(i => n[i] * Math.Sqrt(2) * sigma).ToArray();
            w = keep.Select(i => wt[i]).ToArray();
        }
        else if (rule == ShiftRule.Grid)
        {
            double step = extent / ((deg - 1) / 2);
            x = Enumerable.Range(0, deg).Select(i => (i - (deg - 1) / 2) * step).ToArray();
            w = x.Select(v => Math.Exp(-v * v / (2 * sigma * sigma))).ToArray();
            extent *= 1 + 1e-9; // the grid's ends lie on the disc's edge: keep them
        }
        else
        {
            var (n, wt) = GaussRules.Legendre(deg);
            x = n.Select(v => v * extent).ToArray();
            w = wt.Select((v, i) => v * Math.Exp(-x[i] * x[i] / (2 * sigma * sigma))).ToArray();
        }
        var shifts = new List<PixelShift>();
        var weights = new List<double>();
        for (int iy = 0; iy < x.Length; iy++)
            for (int ix = 0; ix < x.Length; ix++)
                if (x[ix] * x[ix] + x[iy] * x[iy] < extent * extent)
                {
                    shifts.Add(new PixelShift(x[ix], x[iy]));
                    weights.Add(w[ix] * w[iy]);
                }
        double total = weights.Sum();
        return (shifts.ToArray(), weights.Select(v => Math.Log(v / total)).ToArray());
    }

    private static double[] NearestNeighbourDistances(PixelShift[] s)
    {
        var d = new double[s.Length];
        for (int i = 0; i < s.Length; i++)
        {
            double best = double.PositiveInfinity;
            for (int j = 0; j < s.Length; j++)
            {
                if (j == i) continue;
                double dx = s[i].X - s[j].X, dy = s[i].Y - s[j].Y;
                best = Math.Min(best, dx * dx + dy * dy);
            }
            d[i] = s.Length == 1 ? 0 : Math.Sqrt(best);
        }
        return d;
    }
}
