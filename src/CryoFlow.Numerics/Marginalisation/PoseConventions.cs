using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Numerics.Marginalisation;

/// <summary>
/// How a pose evaluated in the slice frame maps to RELION's pose of the particle.
/// <para>
/// The marginaliser compares the slice of direction A_d = Euler(rot, tilt, psi0) with the image rotated by psi,
/// A_psi(k) = I(R2(psi) k), R2(psi) = [[cos psi, sin psi], [-sin psi, cos psi]], and re-centres it with the shift
/// phase exp(+2 pi i k.t / D) (the kernel's convention: t is the displacement, in px, of the particle in the rotated
/// image). Since Rz(psi) Euler(rot, tilt, psi0) = Euler(rot, tilt, psi0 + psi), the RELION angles are
/// (rot, tilt, psi0 + psi). For the shift, put k' = R2(psi) k: k.t = k'.(R2(psi) t), so the phase is
/// exp(+2 pi i k'.u / D) on the unrotated image with u = R2(psi) t, which moves the content by -u. RELION's particle
/// sits at (box centre - origin) and is re-centred by moving it by +origin, hence
/// <b>origin_px = -R2(psi) t</b>, i.e. originX = -(cos psi tx + sin psi ty), originY = sin psi tx - cos psi ty, and
/// rlnOriginXAngst/YAngst = origin_px x apix. Proven against relion_project in
/// <c>tests/CryoFlow.Interop.Tests/RelionLikelihoodTests.cs</c> and against direct rendering at the full Euler angles
/// and origin in <c>ParticleMarginaliserTests</c>.
/// </para>
/// </summary>
public static class PoseConventions
{
    /// <summary>RELION's origin in px of a particle re-centred by slice-frame shift t at in-plane angle psi: -R2(psi) t.</summary>
    public static (double X, double Y) SliceShiftToOrigin(double tx, double ty, double psiRad)
    {
        var (s, c) = Math.SinCos(psiRad);
        return (-(c * tx + s * ty), s * tx - c * ty);
    }

    /// <summary>The inverse of <see cref="SliceShiftToOrigin"/>: t = -R2(psi)^T origin_px.</summary>
    public static (double X, double Y) OriginToSliceShift(double originX, double originY, double psiRad)
    {
        var (s, c) = Math.SinCos(psiRad);
        return (-(c * originX - s * originY), -(s * originX + c * originY));
    }

    /// <summary>The RELION pose of (direction angles, in-plane angle psi, slice-frame shift t in px).</summary>
    /// <param name="direction">the slice's angles (rot, tilt, psi0), degrees; the quadrature's have psi0 = 0</param>
    /// <param name="psiRad">the image's in-plane rotation, radians</param>
    /// <param name="tx">slice-frame shift x, px (kernel convention)</param>
    /// <param name="ty">slice-frame shift y, px</param>
    /// <param name="pixelSize">Å/px, for rlnOriginXAngst/YAngst</param>
    public static Pose ToRelionPose(in EulerAngles direction, double psiRad, double tx, double ty, double pixelSize)
    {
        var (ox, oy) = SliceShiftToOrigin(tx, ty, psiRad);
        double psi = WrapDegrees(direction.PsiDeg + psiRad * (180 / Math.PI));
        return new Pose(new EulerAngles(direction.RotDeg, direction.TiltDeg, psi), ox * pixelSize, oy * pixelSize);
    }

    /// <summary>An angle in degrees wrapped into (-180, 180].</summary>
    public static double WrapDegrees(double deg)
    {
        double w = deg % 360;
        if (w > 180) w -= 360;
        else if (w <= -180) w += 360;
        return w;
    }
}
