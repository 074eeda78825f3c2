using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Numerics.Tests.Projection;

/// <summary>Brute-force projections, computed without any of the code under test except the verified FFT.</summary>
internal static class ProjectionReferences
{
    /// <summary>
    /// Real-space line integral: P(x, y) = sum over z of v(A^T (x - c, y - c, z - c) + c), c = D/2, voxels sampled
    /// trilinearly (zero outside the box), <paramref name="steps"/> samples per voxel along the ray.
    /// </summary>
    public static float[] RaySumProjection(float[] v, int d, Rotation3 a, int steps = 1)
    {
        var img = new float[d * d];
        double c = d / 2.0, dz = 1.0 / steps;
        Parallel.For(0, d, y =>
        {
            for (int x = 0; x < d; x++)
            {
                double sum = 0;
                for (int iz = 0; iz < d * steps; iz++)
                {
                    double z = -c + iz * dz;
                    double px = a.M00 * (x - c) + a.M10 * (y - c) + a.M20 * z + c;
                    double py = a.M01 * (x - c) + a.M11 * (y - c) + a.M21 * z + c;
                    double pz = a.M02 * (x - c) + a.M12 * (y - c) + a.M22 * z + c;
                    sum += Trilinear(v, d, px, py, pz);
                }
                img[y * d + x] = (float)(sum * dz);
            }
        });
        return img;
    }

    /// <summary>The disc coefficients of a real image under CryoFlow's FFT convention.</summary>
    public static float[] DiscTransform(float[] image, FourierDisc disc)
    {
        int d = disc.BoxSize;
        var half = new float[2 * FourierLayout.HalfPlaneLength(d)];
        FftBackends.Managed.Plan2D(d).Forward(image, half);
        var onDisc = new float[2 * disc.Count];
        disc.Gather(half, onDisc);
        return onDisc;
    }

    /// <summary>
    /// The exact central-slice value that ideal (sinc) interpolation of the DFT would give:
    /// D^-1 sum_x v(x) exp(-2 pi i q.(x - D/2)/D) at q = A^T (k, 0), i.e. the 2D DFT of the line integral of the
    /// trigonometric interpolant of the voxels.
    /// </summary>
    public static float[] ExactSlice(float[] v, FourierDisc disc, Rotation3 a)
    {
        int d = disc.BoxSize;
        var result = new float[2 * disc.Count];
        Parallel.For(0, disc.Count, () => (new double[2 * d], new double[2 * d], new double[2 * d]), (j, _, t) =>
        {
            var (ex, ey, ez) = t;
            int kx = disc.Kx[j], ky = disc.Ky[j];
            double qx = a.M00 * kx + a.M10 * ky, qy = a.M01 * kx + a.M11 * ky, qz = a.M02 * kx + a.M12 * ky;
            Table(ex, qx, d);
            Table(ey, qy, d);
            Table(ez, qz, d);
            double re = 0, im = 0;
            for (int z = 0; z < d; z++)
            {
                double yr = 0, yi = 0;
                for (int y = 0; y < d; y++)
                {
                    int o = (z * d + y) * d;
                    double xr = 0, xi = 0;
                    for (int x = 0; x < d; x++)
                    {
                        double val = v[o + x];
                        xr += val * ex[2 * x];
                        xi += val * ex[2 * x + 1];
                    }
                    yr += xr * ey[2 * y] - xi * ey[2 * y + 1];
                    yi += xr * ey[2 * y + 1] + xi * ey[2 * y];
                }
                re += yr * ez[2 * z] - yi * ez[2 * z + 1];
                im += yr * ez[2 * z + 1] + yi * ez[2 * z];
            }
            result[2 * j] = (float)(re / d);
            result[2 * j + 1] = (float)(im / d);
            return t;
        }, _ => { });
        return result;
    }

    private static void Table(double[] e, double q, int d)
    {
        for (int x = 0; x < d; x++)
        {
            var (s, c) = Math.SinCos(-2 * Math.PI * q * (x - d / 2) / d);
            e[2 * x] = c;
            e[2 * x + 1] = s;
        }
    }

    /// <summary>||a - b||_m / ||b||_m over the first <paramref name="count"/> disc points.</summary>
    public static double RelativeError(float[] a, float[] b, FourierDisc disc, int count)
    {
        double num = 0, den = 0;
        for (int j = 0; j < count; j++)
        {
            double m = disc.Multiplicity[j];
            double dr = a[2 * j] - b[2 * j], di = a[2 * j + 1] - b[2 * j + 1];
            num += m * (dr * dr + di * di);
            den += m * ((double)b[2 * j] * b[2 * j] + (double)b[2 * j + 1] * b[2 * j + 1]);
        }
        return Math.Sqrt(num / den);
    }

    private static double Trilinear(float[] v, int d, double x, double y, double z)
    {
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y), z0 = (int)Math.Floor(z);
        double fx = x - x0, fy = y - y0, fz = z - z0, s = 0;
        for (int dz = 0; dz < 2; dz++)
        {
            int zz = z0 + dz;
            if (zz < 0 || zz >= d) continue;
            double wz = dz == 0 ? 1 - fz : fz;
            for (int dy = 0; dy < 2; dy++)
            {
                int yy = y0 + dy;
                if (yy < 0 || yy >= d) continue;
                double wy = dy == 0 ? 1 - fy : fy;
                for (int dx = 0; dx < 2; dx++)
                {
                    int xx = x0 + dx;
                    if (xx < 0 || xx >= d) continue;
                    double wx = dx == 0 ? 1 - fx : fx;
                    s += wz * wy * wx * v[(zz * d + yy) * d + xx];
                }
            }
        }
        return s;
    }
}
