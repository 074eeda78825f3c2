namespace CryoFlow.Numerics.Projection;

/// <summary>
/// Tap lists for separable interpolation of a Hermitian half-space (3D) or half-plane (2D) transform at one
/// off-grid frequency. A tap at negative kx reads the conjugate of its mirror image -k; a tap beyond the Nyquist
/// frequency of any axis is dropped (taken as zero). A sample with negative x is itself mirrored first, so the
/// linear kernel never needs per-tap mirroring.
/// </summary>
internal static class FourierInterpolation
{
    /// <summary>Capacity needed for the tap buffers in 3D.</summary>
    public const int MaxTaps3D = KernelMath.MaxTaps * KernelMath.MaxTaps * KernelMath.MaxTaps;

    /// <summary>Capacity needed for the tap buffers in 2D.</summary>
    public const int MaxTaps2D = KernelMath.MaxTaps * KernelMath.MaxTaps;

    /// <summary>
    /// Taps of the sample at (qx, qy, qz) (padded-grid frequency units) in a half-space of size <paramref name="dp"/>.
    /// Writes complex indices, weights, the sign to apply to the imaginary part (-1: read conjugated) and the
    /// Hermitian weight of the tap's column; returns the tap count.
    /// </summary>
    public static int Taps3D(InterpolationKernel kernel, int dp, double qx, double qy, double qz,
        Span<int> index, Span<float> weight, Span<float> imagSign, Span<float> hermitian, Span<float> axisWeights)
    {
        float outer = 1;
        if (qx < 0) { qx = -qx; qy = -qy; qz = -qz; outer = -1; }
        int taps = KernelMath.Taps(kernel);
        var wx = axisWeights.Slice(0, taps);
        var wy = axisWeights.Slice(KernelMath.MaxTaps, taps);
        var wz = axisWeights.Slice(2 * KernelMath.MaxTaps, taps);
        int x0 = KernelMath.Weights(kernel, qx, wx);
        int y0 = KernelMath.Weights(kernel, qy, wy);
        int z0 = KernelMath.Weights(kernel, qz, wz);
        int half = dp / 2, hp = half + 1, n = 0;
        for (int tz = 0; tz < taps; tz++)
        {
            int iz = z0 + tz;
            if (wz[tz] == 0 || iz > half || iz < -half) continue;
            for (int ty = 0; ty < taps; ty++)
            {
                int iy = y0 + ty;
                if (wy[ty] == 0 || iy > half || iy < -half) continue;
                float wzy = wz[tz] * wy[ty];
                for (int tx = 0; tx < taps; tx++)
                {
                    int ix = x0 + tx;
                    if (wx[tx] == 0 || ix > half || ix < -half) continue;
                    int jx = ix, jy = iy, jz = iz;
                    float s = outer;
                    if (ix < 0) { jx = -ix; jy = -iy; jz = -iz; s = -s; }
                    int ry = jy < 0 ? jy + dp : jy;
                    int rz = jz < 0 ? jz + dp : jz;
                    index[n] = (rz * dp + ry) * hp + jx;
                    weight[n] = wzy * wx[tx];
                    imagSign[n] = s;
                    hermitian[n] = jx == 0 || jx == half ? 1f : 2f;
                    n++;
                }
            }
        }
        return n;
    }

    /// <summary>As <see cref="Taps3D"/> for a half-plane of size <paramref name="dp"/> and a sample at (qx, qy).</summary>
    public static int Taps2D(InterpolationKernel kernel, int dp, double qx, double qy,
        Span<int> index, Span<float> weight, Span<float> imagSign, Span<float> hermitian, Span<float> axisWeights)
    {
        float outer = 1;
        if (qx < 0) { qx = -qx; qy = -qy; outer = -1; }
        int taps = KernelMath.Taps(kernel);
        var wx = axisWeights.Slice(0, taps);
        var wy = axisWeights.Slice(KernelMath.MaxTaps, taps);
        int x0 = KernelMath.Weights(kernel, qx, wx);
        int y0 = KernelMath.Weights(kernel, qy, wy);
        int half = dp / 2, hp = half + 1, n = 0;
        for (int ty = 0; ty < taps; ty++)
        {
            int iy = y0 + ty;
            if (wy[ty] == 0 || iy > half || iy < -half) continue;
            for (int tx = 0; tx < taps; tx++)
            {
                int ix = x0 + tx;
                if (wx[tx] == 0 || ix > half || ix < -half) continue;
                int jx = ix, jy = iy;
                float s = outer;
                if (ix < 0) { jx = -ix; jy = -iy; s = -s; }
                int ry = jy < 0 ? jy + dp : jy;
                index[n] = ry * hp + jx;
                weight[n] = wy[ty] * wx[tx];
                imagSign[n] = s;
                hermitian[n] = jx == 0 || jx == half ? 1f : 2f;
                n++;
            }
        }
        return n;
    }
}
