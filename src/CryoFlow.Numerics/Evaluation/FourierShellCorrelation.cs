using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Evaluation;

/// <summary>One shell of an FSC curve.</summary>
/// <param name="Shell">shell index: Fourier-pixel radius, rounded</param>
/// <param name="Frequency">spatial frequency, 1/Å (Shell / (D * voxel size))</param>
/// <param name="Correlation">normalised correlation in [-1, 1]; 0 for a shell where either map is zero</param>
/// <param name="Coefficients">coefficients in the shell (both members of conjugate pairs counted)</param>
public readonly record struct FscShell(int Shell, double Frequency, double Correlation, long Coefficients);

/// <summary>An FSC curve between two maps of the same box and voxel size.</summary>
public sealed class FscCurve
{
    public FscCurve(int boxSize, double voxelSize, IReadOnlyList<FscShell> shells)
    {
        BoxSize = boxSize;
        VoxelSize = voxelSize;
        Shells = shells;
    }

    public int BoxSize { get; }

    /// <summary>Å per voxel.</summary>
    public double VoxelSize { get; }

    /// <summary>Shells 0 .. D/2 (the last one is Nyquist).</summary>
    public IReadOnlyList<FscShell> Shells { get; }

    /// <summary>
    /// The resolution (Å) where the curve falls below <paramref name="threshold"/>: the first crossing
    /// after the curve has reached the threshold (two consecutive shells at or above it), linearly
    /// interpolated between the shells either side. Shell 0 (the mean) is ignored, and so is a dip
    /// in the lowest shells (a handful of coefficients each) before the curve has reached the threshold. Such a dip comes from density that one map cannot hold, not from
    /// resolution; a positivity-constrained reconstruction compared with a truth that has negative
    /// density is the common case. When the curve never reaches the threshold the answer is the lowest
    /// resolution (shell 1); when it never falls below it, Nyquist (2 x voxel size).
    /// </summary>
    public double ResolutionAt(double threshold)
    {
        int start = 1;
        while (start < Shells.Count && !(Shells[start].Correlation >= threshold
            && (start + 1 == Shells.Count || Shells[start + 1].Correlation >= threshold))) start++;
        if (start == Shells.Count) return 1.0 / Shells[1].Frequency;
        for (int s = start + 1; s < Shells.Count; s++)
        {
            if (Shells[s].Correlation >= threshold) continue;
            double c0 = Shells[s - 1].Correlation, c1 = Shells[s].Correlation;
            double t = (c0 - threshold) / (c0 - c1);
            double f = Shells[s - 1].Frequency + t * (Shells[s].Frequency - Shells[s - 1].Frequency);
            return 1.0 / f;
        }
        return 2.0 * VoxelSize;
    }

    /// <summary>The shell (fractional, interpolated) where the curve first falls below the threshold.</summary>
    public double ShellAt(double threshold) => BoxSize * VoxelSize / ResolutionAt(threshold);
}

/// <summary>
/// Fourier Shell Correlation between two real-space maps: per shell of rounded radius |k| (in
/// Fourier pixels), Re sum F1 conj(F2) / sqrt(sum |F1|^2 sum |F2|^2), over the full Hermitian
/// transform (each stored half-space coefficient counted with its Hermitian weight).
/// </summary>
public static class FourierShellCorrelation
{
    /// <param name="a">D^3 real voxels, [z][y][x]</param>
    /// <param name="b">D^3 real voxels, [z][y][x]</param>
    /// <param name="boxSize">D, even</param>
    /// <param name="voxelSize">Å per voxel (both maps)</param>
    /// <param name="fft">FFT backend; default <see cref="FftBackends.Default"/></param>
    public static FscCurve Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int boxSize, double voxelSize, IFftBackend? fft = null)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        long n = (long)boxSize * boxSize * boxSize;
        if (a.Length != n || b.Length != n)
            throw new ArgumentException($"both maps must have {n} voxels (box {boxSize}); found {a.Length} and {b.Length}");
        if (!(voxelSize > 0)) throw new ArgumentOutOfRangeException(nameof(voxelSize), voxelSize, "voxel size must be positive");
        var plan = (fft ?? FftBackends.Default).Plan3D(boxSize);
        var fa = new float[plan.ComplexLength];
        var fb = new float[plan.ComplexLength];
        plan.Forward(a, fa);
        plan.Forward(b, fb);
        return FromTransforms(fa, fb, boxSize, voxelSize);
    }

    /// <summary>The FSC of two half-space transforms (<see cref="FourierLayout"/>).</summary>
    public static FscCurve FromTransforms(ReadOnlySpan<float> fa, ReadOnlySpan<float> fb, int boxSize, double voxelSize)
    {
        int d = boxSize, h = FourierLayout.HalfWidth(d), shells = d / 2 + 1;
        var cross = new double[shells];
        var pa = new double[shells];
        var pb = new double[shells];
        var count = new long[shells];
        for (int rz = 0; rz < d; rz++)
        {
            int kz = FourierLayout.FrequencyOfRow(rz, d);
            for (int ry = 0; ry < d; ry++)
            {
                int ky = FourierLayout.FrequencyOfRow(ry, d);
                int row = (rz * d + ry) * h;
                for (int kx = 0; kx < h; kx++)
                {
                    int s = (int)Math.Round(Math.Sqrt((double)kx * kx + (double)ky * ky + (double)kz * kz));
                    if (s >= shells) continue;
                    int w = FourierLayout.HermitianWeight(kx, d);
                    int i = 2 * (row + kx);
                    double ar = fa[i], ai = fa[i + 1], br = fb[i], bi = fb[i + 1];
                    cross[s] += w * (ar * br + ai * bi);
                    pa[s] += w * (ar * ar + ai * ai);
                    pb[s] += w * (br * br + bi * bi);
                    count[s] += w;
                }
            }
        }
        var result = new FscShell[shells];
        for (int s = 0; s < shells; s++)
        {
            double denom = Math.Sqrt(pa[s] * pb[s]);
            double c = denom > 0 ? cross[s] / denom : 0;
            result[s] = new FscShell(s, s / (d * voxelSize), c, count[s]);
        }
        return new FscCurve(d, voxelSize, result);
    }
}
