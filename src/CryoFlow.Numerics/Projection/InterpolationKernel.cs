namespace CryoFlow.Numerics.Projection;

/// <summary>Separable kernel used to interpolate a DFT at off-grid frequencies.</summary>
public enum InterpolationKernel
{
    /// <summary>Linear per axis (trilinear in 3D, bilinear in 2D): 2 taps per axis, transform sinc^2.</summary>
    Linear,

    /// <summary>Lanczos a = 2, sinc(u) sinc(u/2) for |u| &lt; 2: 4 taps per axis (the reference code's slicing kernel).</summary>
    Lanczos2,

    /// <summary>Lanczos a = 3: 6 taps per axis.</summary>
    Lanczos3,
}

/// <summary>Kernel values, support and continuous Fourier transform (for premultiplication).</summary>
internal static class KernelMath
{
    public const int MaxTaps = 6;

    public static int Taps(InterpolationKernel k) => k switch
    {
        InterpolationKernel.Linear => 2,
        InterpolationKernel.Lanczos2 => 4,
        InterpolationKernel.Lanczos3 => 6,
        _ => throw new ArgumentOutOfRangeException(nameof(k), k, "unknown interpolation kernel"),
    };

    /// <summary>Kernel value at offset u (Fourier samples).</summary>
    public static double Value(InterpolationKernel k, double u)
    {
        double a = Math.Abs(u);
        switch (k)
        {
            case InterpolationKernel.Linear:
                return a < 1 ? 1 - a : 0;
            case InterpolationKernel.Lanczos2:
                return a < 2 ? Sinc(u) * Sinc(u / 2) : 0;
            default:
                return a < 3 ? Sinc(u) * Sinc(u / 3) : 0;
        }
    }

    /// <summary>
    /// Per-axis taps for a sample at <paramref name="q"/>: first tap index floor(q) - taps/2 + 1 and the weights
    /// K(q - tap) in <paramref name="weights"/>.
    /// </summary>
    public static int Weights(InterpolationKernel k, double q, Span<float> weights)
    {
        double fl = Math.Floor(q);
        int taps = Taps(k);
        int start = (int)fl - taps / 2 + 1;
        if (k == InterpolationKernel.Linear)
        {
            float f = (float)(q - fl);
            weights[0] = 1 - f;
            weights[1] = f;
            return start;
        }
        for (int t = 0; t < taps; t++) weights[t] = (float)Value(k, q - (start + t));
        return start;
    }

    /// <summary>Continuous Fourier transform of the kernel, K^(nu) = integral K(u) exp(-2 pi i u nu) du (real, even).</summary>
    public static double Transform(InterpolationKernel k, double nu)
    {
        if (k == InterpolationKernel.Linear)
        {
            double s = Sinc(nu);
            return s * s;
        }
        // Simpson's rule on [0, a]; the kernel is smooth inside its support.
        double a = Taps(k) / 2.0;
        int n = 4000 * (int)a;
        double h = a / n, sum = 0;
        for (int i = 0; i <= n; i++)
        {
            double u = i * h;
            double w = i == 0 || i == n ? 1 : (i & 1) == 1 ? 4 : 2;
            sum += w * Value(k, u) * Math.Cos(2 * Math.PI * u * nu);
        }
        return 2 * sum * h / 3;
    }

    /// <summary>
    /// Real-space premultiplier along one axis: 1 / K^((x - D/2) / Dp) for x = 0..D-1, the reciprocal of the
    /// attenuation that interpolating the padded (size Dp) transform with K imposes at real-space pixel x.
    /// </summary>
    public static float[] Premultiplier(InterpolationKernel k, int boxSize, int paddedSize)
    {
        var g = new float[boxSize];
        for (int x = 0; x < boxSize; x++)
            g[x] = (float)(1 / Transform(k, (x - boxSize / 2) / (double)paddedSize));
        return g;
    }

    private static double Sinc(double x) => x == 0 ? 1 : Math.Sin(Math.PI * x) / (Math.PI * x);
}
