namespace CryoFlow.Numerics.Geometry;

/// <summary>A 3x3 rotation matrix, row-major, in double precision.</summary>
public readonly record struct Rotation3(
    double M00, double M01, double M02,
    double M10, double M11, double M12,
    double M20, double M21, double M22)
{
    public static Rotation3 Identity => new(1, 0, 0, 0, 1, 0, 0, 0, 1);

    public double this[int row, int col] => (row * 3 + col) switch
    {
        0 => M00, 1 => M01, 2 => M02,
        3 => M10, 4 => M11, 5 => M12,
        6 => M20, 7 => M21, 8 => M22,
        _ => throw new ArgumentOutOfRangeException(nameof(row)),
    };

    public Rotation3 Transpose() => new(M00, M10, M20, M01, M11, M21, M02, M12, M22);

    public static Rotation3 operator *(Rotation3 a, Rotation3 b) => new(
        a.M00 * b.M00 + a.M01 * b.M10 + a.M02 * b.M20,
        a.M00 * b.M01 + a.M01 * b.M11 + a.M02 * b.M21,
        a.M00 * b.M02 + a.M01 * b.M12 + a.M02 * b.M22,
        a.M10 * b.M00 + a.M11 * b.M10 + a.M12 * b.M20,
        a.M10 * b.M01 + a.M11 * b.M11 + a.M12 * b.M21,
        a.M10 * b.M02 + a.M11 * b.M12 + a.M12 * b.M22,
        a.M20 * b.M00 + a.M21 * b.M10 + a.M22 * b.M20,
        a.M20 * b.M01 + a.M21 * b.M11 + a.M22 * b.M21,
        a.M20 * b.M02 + a.M21 * b.M12 + a.M22 * b.M22);

    /// <summary>This matrix times the column vector (x, y, z).</summary>
    public (double X, double Y, double Z) Apply(double x, double y, double z) =>
        (M00 * x + M01 * y + M02 * z, M10 * x + M11 * y + M12 * z, M20 * x + M21 * y + M22 * z);

    /// <summary>
    /// Rotation from an axis-angle (Rodrigues) vector, radians: the form of cryoSPARC's
    /// <c>alignments3D/pose</c>.
    /// </summary>
    public static Rotation3 FromAxisAngle(double vx, double vy, double vz)
    {
        double theta = Math.Sqrt(vx * vx + vy * vy + vz * vz);
        if (theta < 1e-12) return Identity;
        double x = vx / theta, y = vy / theta, z = vz / theta;
        double c = Math.Cos(theta), s = Math.Sin(theta), t = 1 - c;
        return new(
            t * x * x + c, t * x * y - s * z, t * x * z + s * y,
            t * x * y + s * z, t * y * y + c, t * y * z - s * x,
            t * x * z - s * y, t * y * z + s * x, t * z * z + c);
    }

    /// <summary>Largest absolute element difference, for tests and sanity checks.</summary>
    public double MaxAbsDifference(Rotation3 o) => new[]
    {
        M00 - o.M00, M01 - o.M01, M02 - o.M02, M10 - o.M10, M11 - o.M11, M12 - o.M12, M20 - o.M20, M21 - o.M21, M22 - o.M22,
    }.Max(Math.Abs);
}
