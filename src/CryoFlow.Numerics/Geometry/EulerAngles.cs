namespace CryoFlow.Numerics.Geometry;

/// <summary>
/// RELION's Euler angles in degrees (rot, tilt, psi; ZYZ). The matrix A = Rz(psi) Ry(tilt) Rz(rot)
/// is built from passive rotations: its bottom row is the viewing direction and the central slice
/// at 2D frequency (x, y) samples the volume's transform at A^T (x, y, 0).
/// </summary>
public readonly record struct EulerAngles(double RotDeg, double TiltDeg, double PsiDeg)
{
    private const double Deg = Math.PI / 180.0;

    /// <summary>RELION's Euler_angles2matrix.</summary>
    public Rotation3 ToMatrix()
    {
        double a = RotDeg * Deg, b = TiltDeg * Deg, g = PsiDeg * Deg;
        double ca = Math.Cos(a), sa = Math.Sin(a);
        double cb = Math.Cos(b), sb = Math.Sin(b);
        double cg = Math.Cos(g), sg = Math.Sin(g);
        double cc = cb * ca, cs = cb * sa, sc = sb * ca, ss = sb * sa;
        return new Rotation3(
            cg * cc - sg * sa, cg * cs + sg * ca, -cg * sb,
            -sg * cc - cg * sa, -sg * cs + cg * ca, sg * sb,
            sc, ss, cb);
    }

    /// <summary>RELION's Euler_matrix2angles: the angles (degrees) of a rotation matrix.</summary>
    public static EulerAngles FromMatrix(Rotation3 m)
    {
        double absSb = Math.Sqrt(m.M02 * m.M02 + m.M12 * m.M12);
        double alpha, beta, gamma;
        if (absSb > 16 * float.Epsilon && absSb > 1e-9)
        {
            gamma = Math.Atan2(m.M12, -m.M02);
            alpha = Math.Atan2(m.M21, m.M20);
            double signSb = Math.Abs(Math.Sin(gamma)) < 1e-9
                ? Math.Sign(-m.M02 / Math.Cos(gamma))
                : (Math.Sin(gamma) > 0 ? Math.Sign(m.M12) : -Math.Sign(m.M12));
            beta = Math.Atan2(signSb * absSb, m.M22);
        }
        else if (m.M22 > 0)
        {
            alpha = 0; beta = 0; gamma = Math.Atan2(-m.M10, m.M00);
        }
        else
        {
            alpha = 0; beta = Math.PI; gamma = Math.Atan2(m.M10, -m.M00);
        }
        return new EulerAngles(alpha / Deg, beta / Deg, gamma / Deg);
    }

    /// <summary>The unit viewing direction (the bottom row of the matrix).</summary>
    public (double X, double Y, double Z) ViewingDirection()
    {
        var m = ToMatrix();
        return (m.M20, m.M21, m.M22);
    }
}

/// <summary>
/// A particle's pose in RELION's convention: Euler angles and the origin shift in Å
/// (rlnOriginXAngst/YAngst). The particle's centre sits at (box centre - origin).
/// </summary>
public readonly record struct Pose(EulerAngles Angles, double OriginXAngst, double OriginYAngst);
