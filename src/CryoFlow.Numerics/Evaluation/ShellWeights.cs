using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Evaluation;

/// <summary>
/// Per-shell weights for the alignment score (<see cref="AlignmentLevel"/>). Shell s holds the coefficients with
/// round(|k|) = s, k in Fourier pixels of the D box.
/// </summary>
internal static class ShellWeights
{
    /// <summary>Shells whose mean power is below this fraction of the strongest shell's get weight 0 (they hold round-off only).</summary>
    public const double PowerFloor = 1e-10;

    public static int ShellOf(int kx, int ky, int kz) => (int)Math.Round(Math.Sqrt(kx * kx + ky * ky + kz * kz));

    /// <summary>
    /// Spectral whitening: 1 / sqrt(mean |F(k)|^2 over the shell) for shells 1..<paramref name="radius"/> (shell 0:
    /// 0). Each shell of the weighted map then carries the same power per coefficient, so the correlation of two
    /// whitened maps is the coefficient-count-weighted mean of their per-shell correlations (their FSC), and no
    /// longer the correlation of their few strongest low-resolution shells. That matters for a map whose
    /// low-resolution envelope is nearly symmetric (a blob, a dipole): its orientation and hand are then set by the
    /// weaker fine detail, which the unweighted correlation barely sees.
    /// </summary>
    /// <param name="transform">half-space transform of the D box (<see cref="FourierLayout"/>)</param>
    /// <param name="boxSize">D</param>
    /// <param name="radius">last shell, &lt; D/2</param>
    public static double[] Whitening(ReadOnlySpan<float> transform, int boxSize, int radius)
    {
        int d = boxSize;
        var power = new double[radius + 1];
        var count = new long[radius + 1];
        for (int kz = -radius; kz <= radius; kz++)
            for (int ky = -radius; ky <= radius; ky++)
                for (int kx = 0; kx <= radius; kx++)
                {
                    int s = ShellOf(kx, ky, kz);
                    if (s == 0 || s > radius) continue;
                    int i = 2 * FourierLayout.HalfSpaceIndex(kx, ky, kz, d);
                    power[s] += (double)transform[i] * transform[i] + (double)transform[i + 1] * transform[i + 1];
                    count[s]++;
                }
        double strongest = 0;
        for (int s = 1; s <= radius; s++)
        {
            power[s] = count[s] > 0 ? power[s] / count[s] : 0;
            strongest = Math.Max(strongest, power[s]);
        }
        var weights = new double[radius + 1];
        for (int s = 1; s <= radius; s++)
            weights[s] = power[s] > PowerFloor * strongest && power[s] > 0 ? 1 / Math.Sqrt(power[s]) : 0;
        return weights;
    }
}
