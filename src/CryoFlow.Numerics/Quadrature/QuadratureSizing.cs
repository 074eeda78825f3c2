namespace CryoFlow.Numerics.Quadrature;

/// <summary>
/// Quadrature sizes from the cutoff (DESIGN 4.1, REFERENCE 2.1-2.4). r* = w* D apix is the cutoff radius in
/// Fourier pixels; alpha = 0.5 arccos((r*^2 - 1)/(r*^2 + 1)) = arctan(1/r*) is the angle one Fourier pixel subtends
/// there. An undersampling factor us &gt;= 1 coarsens a grid (alpha -> us alpha).
/// </summary>
public static class QuadratureSizing
{
    /// <summary>r* = w* D apix, Fourier pixels.</summary>
    /// <param name="maxFrequency">w*, 1/Å</param>
    /// <param name="boxSize">D, px</param>
    /// <param name="pixelSize">apix, Å/px</param>
    public static double CutoffRadius(double maxFrequency, int boxSize, double pixelSize) => maxFrequency * boxSize * pixelSize;

    /// <summary>alpha(r) = 0.5 arccos((r^2 - 1)/(r^2 + 1)), radians (computed as arctan(1/r), which is the same and exact for large r).</summary>
    public static double BasicAngle(double radius)
    {
        if (!(radius > 0)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "cutoff radius must be positive");
        return Math.Atan(1 / radius);
    }

    /// <summary>M_d = ceil((3.6 / (us alpha))^2).</summary>
    public static int DirectionCount(double radius, double undersample = 1) =>
        CheckedCeiling(Math.Pow(3.6 / (undersample * BasicAngle(radius)), 2));

    /// <summary>M_psi = ceil(2 pi / (us alpha)).</summary>
    public static int InPlaneCount(double radius, double undersample = 1) =>
        CheckedCeiling(2 * Math.PI / (undersample * BasicAngle(radius)));

    /// <summary>
    /// Shift points per axis, 1 + 2 round(E / spacing) with spacing = us * (D / r*) / samplesPerPeriod: D / r* px is one
    /// period at the cutoff, so samplesPerPeriod = 1 is the paper's one sample per period and 2 the reference code's
    /// half-period spacing (deg = 1 + 2 round(E rad / us)).
    /// </summary>
    /// <param name="extentPixels">E, half-width of the shift search, px</param>
    public static int ShiftPointsPerAxis(double extentPixels, double radius, int boxSize, double undersample = 1, double samplesPerPeriod = 1)
    {
        double spacing = undersample * (boxSize / radius) / samplesPerPeriod;
        return 1 + 2 * (int)Math.Round(extentPixels / spacing, MidpointRounding.AwayFromZero);
    }

    private static int CheckedCeiling(double x)
    {
        if (!(x < int.MaxValue)) throw new ArgumentOutOfRangeException(nameof(x), x, "quadrature size overflows");
        return (int)Math.Ceiling(x);
    }
}
