using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Projection;

/// <summary>
/// Fourier-space shifts on disc points. Shifting an image by +s pixels in real space (content moves towards +x,
/// +y) multiplies its transform by exp(-2 pi i k.s / D). A RELION particle whose centre sits at
/// (box centre - origin) is re-centred with s = +origin (origin in px = rlnOriginXAngst / apix).
/// </summary>
public static class ShiftPhases
{
    /// <summary>phases[s][j] = exp(-2 pi i (kx_j s.X + ky_j s.Y) / D), interleaved complex, shift-major.</summary>
    /// <param name="disc">points k</param>
    /// <param name="shifts">shifts in pixels</param>
    /// <param name="phases">receives shifts.Length * 2 * disc.Count floats</param>
    public static void Compute(FourierDisc disc, ReadOnlySpan<PixelShift> shifts, Span<float> phases)
    {
        ArgumentNullException.ThrowIfNull(disc);
        int n = 2 * disc.Count;
        if (phases.Length != shifts.Length * n)
            throw new ArgumentException($"phases buffer has {phases.Length} floats, expected {shifts.Length * n}", nameof(phases));
        var kx = disc.Kx;
        var ky = disc.Ky;
        double f = -2 * Math.PI / disc.BoxSize;
        for (int s = 0; s < shifts.Length; s++)
        {
            var dst = phases.Slice(s * n, n);
            double ax = f * shifts[s].X, ay = f * shifts[s].Y;
            for (int j = 0; j < disc.Count; j++)
            {
                var (sin, cos) = Math.SinCos(ax * kx[j] + ay * ky[j]);
                dst[2 * j] = (float)cos;
                dst[2 * j + 1] = (float)sin;
            }
        }
    }

    /// <summary>result = values * phase (pointwise complex product): the shift itself.</summary>
    /// <param name="values">2*Count floats</param>
    /// <param name="phase">2*Count floats, one shift's phases from <see cref="Compute"/></param>
    /// <param name="result">2*Count floats; may alias <paramref name="values"/></param>
    public static void Apply(ReadOnlySpan<float> values, ReadOnlySpan<float> phase, Span<float> result) => Multiply(values, phase, result, 1f);

    /// <summary>result = values * conj(phase): the adjoint (and inverse) of <see cref="Apply"/> under &lt;.,.&gt;_m.</summary>
    public static void ApplyAdjoint(ReadOnlySpan<float> values, ReadOnlySpan<float> phase, Span<float> result) => Multiply(values, phase, result, -1f);

    private static void Multiply(ReadOnlySpan<float> values, ReadOnlySpan<float> phase, Span<float> result, float conj)
    {
        if (values.Length != phase.Length || result.Length != values.Length)
            throw new ArgumentException($"lengths differ: values {values.Length}, phase {phase.Length}, result {result.Length}");
        for (int i = 0; i < values.Length; i += 2)
        {
            float ar = values[i], ai = values[i + 1], br = phase[i], bi = conj * phase[i + 1];
            result[i] = ar * br - ai * bi;
            result[i + 1] = ar * bi + ai * br;
        }
    }
}
