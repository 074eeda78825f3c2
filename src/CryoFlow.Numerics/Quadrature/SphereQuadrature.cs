namespace CryoFlow.Numerics.Quadrature;

/// <summary>Point sets on the unit sphere.</summary>
public static class SphereQuadrature
{
    /// <summary>
    /// Saff and Kuijlaars' generalised spiral over the full sphere: for k = 0..M-1, h_k = -1 + 2k/(M-1),
    /// theta_k = arccos h_k, phi_k = phi_(k-1) + 3.6 / (sqrt(M) sqrt(1 - h_k^2)) (mod 2 pi), phi = 0 at both poles.
    /// Point 0 is the south pole (0, 0, -1), point M-1 the north pole. Near-uniform: each point stands for 4 pi / M sr.
    /// M = 1 gives (0, 0, 1).
    /// </summary>
    public static UnitVector[] SaffKuijlaars(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "need at least one direction");
        if (count == 1) return [new UnitVector(0, 0, 1)];
        var pts = new UnitVector[count];
        double phi = 0, c = 3.6 / Math.Sqrt(count);
        for (int k = 0; k < count; k++)
        {
            double h = -1 + 2.0 * k / (count - 1);
            if (k == 0 || k == count - 1)
            {
                phi = 0;
            }
            else
            {
                phi += c / Math.Sqrt(1 - h * h);
                phi %= 2 * Math.PI;
            }
            double s = Math.Sqrt(Math.Max(0, 1 - h * h));
            pts[k] = new UnitVector(s * Math.Cos(phi), s * Math.Sin(phi), h);
        }
        return pts;
    }
}
