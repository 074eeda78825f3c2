using CryoFlow.Numerics.Quadrature;

namespace CryoFlow.Numerics.Sampling;

/// <summary>Which factor of the pose a domain covers; decides the embedding and the kernel.</summary>
public enum FactorKind
{
    /// <summary>Viewing directions on the unit sphere (von Mises-Fisher kernel).</summary>
    Direction,

    /// <summary>In-plane angles on the circle, embedded as (cos psi, sin psi) (von Mises-Fisher kernel).</summary>
    InPlane,

    /// <summary>Shifts in the plane, px (Gaussian kernel).</summary>
    Shift,
}

/// <summary>
/// One factor's quadrature points at one resolution level, embedded in R^3, with the bandwidth of the kernel centred
/// on each point. All three kernels are Gaussians of the embedded Euclidean distance:
/// <list type="bullet">
/// <item>sphere: exp(kappa (a.b - 1)) = exp(-kappa |a - b|^2 / 2), kappa = ln 4 / (1 - cos r), so sigma = kappa^-1/2;</item>
/// <item>circle: the same on (cos psi, sin psi), kappa = ln 2 / (1 - cos r_psi);</item>
/// <item>plane: exp(-|a - b|^2 / (2 sigma_a^2)), sigma_a = 0.67 x the nearest-neighbour spacing at a.</item>
/// </list>
/// The kernel is always centred on a stored (source) point and uses that point's bandwidth, i.e. the bandwidth of the
/// level the state was recorded on (REFERENCE 4.4). Chirality flip maps a source point to its antipode in the
/// embedding: -d on the sphere, psi + pi on the circle. Immutable.
/// </summary>
public sealed class FactorDomain
{
    /// <summary>sigma of the shift kernel per nearest-neighbour spacing (REFERENCE 4.4).</summary>
    public const double ShiftSigmaScale = 0.67;

    private readonly double[] _x, _y, _z, _sigma;

    private FactorDomain(FactorKind kind, int levelId, double[] x, double[] y, double[] z, double[] sigma)
    {
        if (x.Length == 0) throw new ArgumentException("a domain needs at least one point");
        Kind = kind;
        LevelId = levelId;
        _x = x;
        _y = y;
        _z = z;
        _sigma = sigma;
    }

    public FactorKind Kind { get; }

    /// <summary>Caller-chosen id of the quadrature level; states record it to find their domain again.</summary>
    public int LevelId { get; }

    /// <summary>M, the number of points.</summary>
    public int Count => _x.Length;

    /// <summary>Whether chirality flip has a meaning here (sphere and circle).</summary>
    public bool SupportsFlip => Kind != FactorKind.Shift;

    /// <summary>[M] embedded coordinates.</summary>
    public ReadOnlySpan<double> X => _x;

    public ReadOnlySpan<double> Y => _y;

    public ReadOnlySpan<double> Z => _z;

    /// <summary>[M] kernel sigma centred on each point, in embedded units; +inf means a flat kernel (a one-point grid).</summary>
    public ReadOnlySpan<double> Sigma => _sigma;

    /// <summary>kappa = ln 4 / (1 - cos r): the sphere kernel is 1/4 at one resolution r.</summary>
    public static double SphereConcentration(double resolution) => Math.Log(4) / (1 - Math.Cos(resolution));

    /// <summary>kappa = ln 2 / (1 - cos r): the circle kernel is 1/2 at one resolution r.</summary>
    public static double CircleConcentration(double resolution) => Math.Log(2) / (1 - Math.Cos(resolution));

    /// <param name="directions">unit vectors</param>
    /// <param name="resolution">kernel resolution r, radians (the level's <c>DirectionResolution</c>)</param>
    public static FactorDomain Sphere(ReadOnlySpan<UnitVector> directions, double resolution, int levelId)
    {
        CheckResolution(resolution);
        int m = directions.Length;
        double[] x = new double[m], y = new double[m], z = new double[m], s = new double[m];
        double sigma = 1 / Math.Sqrt(SphereConcentration(resolution));
        for (int i = 0; i < m; i++)
        {
            x[i] = directions[i].X;
            y[i] = directions[i].Y;
            z[i] = directions[i].Z;
            s[i] = sigma;
        }
        return new FactorDomain(FactorKind.Direction, levelId, x, y, z, s);
    }

    /// <param name="angles">psi, radians</param>
    /// <param name="resolution">kernel resolution r_psi, radians (the level's <c>InPlaneResolution</c>)</param>
    public static FactorDomain Circle(ReadOnlySpan<double> angles, double resolution, int levelId)
    {
        CheckResolution(resolution);
        int m = angles.Length;
        double[] x = new double[m], y = new double[m], z = new double[m], s = new double[m];
        double sigma = 1 / Math.Sqrt(CircleConcentration(resolution));
        for (int i = 0; i < m; i++)
        {
            x[i] = Math.Cos(angles[i]);
            y[i] = Math.Sin(angles[i]);
            s[i] = sigma;
        }
        return new FactorDomain(FactorKind.InPlane, levelId, x, y, z, s);
    }

    /// <param name="shifts">shift nodes, px</param>
    /// <param name="spacing">[M] nearest-neighbour distance per node, px (0 for a one-node grid: flat kernel)</param>
    public static FactorDomain Plane(ReadOnlySpan<(double X, double Y)> shifts, ReadOnlySpan<double> spacing, int levelId)
    {
        if (spacing.Length != shifts.Length) throw new ArgumentException("one spacing per shift", nameof(spacing));
        int m = shifts.Length;
        double[] x = new double[m], y = new double[m], z = new double[m], s = new double[m];
        for (int i = 0; i < m; i++)
        {
            x[i] = shifts[i].X;
            y[i] = shifts[i].Y;
            s[i] = spacing[i] > 0 ? ShiftSigmaScale * spacing[i] : double.PositiveInfinity;
        }
        return new FactorDomain(FactorKind.Shift, levelId, x, y, z, s);
    }

    /// <summary>The level's directions with its direction resolution.</summary>
    public static FactorDomain Directions(QuadratureLevel level, int levelId)
    {
        ArgumentNullException.ThrowIfNull(level);
        return Sphere(level.Directions, level.DirectionResolution, levelId);
    }

    /// <summary>The level's in-plane angles with its in-plane resolution.</summary>
    public static FactorDomain InPlane(QuadratureLevel level, int levelId)
    {
        ArgumentNullException.ThrowIfNull(level);
        return Circle(level.InPlaneAngles, level.InPlaneResolution, levelId);
    }

    /// <summary>The level's shift nodes with their nearest-neighbour spacings.</summary>
    public static FactorDomain Shifts(QuadratureLevel level, int levelId)
    {
        ArgumentNullException.ThrowIfNull(level);
        var s = new (double, double)[level.Shifts.Length];
        for (int i = 0; i < s.Length; i++) s[i] = (level.Shifts[i].X, level.Shifts[i].Y);
        return Plane(s, level.ShiftResolution, levelId);
    }

    private static void CheckResolution(double r)
    {
        if (!(r > 0 && r <= Math.PI)) throw new ArgumentOutOfRangeException(nameof(r), r, "kernel resolution must be in (0, pi]");
    }
}
