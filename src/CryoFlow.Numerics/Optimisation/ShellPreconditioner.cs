using CryoFlow.Numerics.Ctf;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// A diagonal Fourier-space preconditioner for the density, by shell (<see cref="OptimiserContext.ShellPreconditioner"/>).
/// <para>The per-image NLL's curvature at a Fourier voxel of radius r is the CTF^2 (over the noise variance) of the
/// images whose central slice passes through it. For views spread over the sphere a slice covers 2 pi r of the 4 pi r^2
/// voxels of its shell, so H(r) ~ &lt;CTF^2/sigma^2&gt;(r) / (2r) (1 at the origin, which every slice holds). A single
/// step size eps/L is set by the stiffest shell (low frequencies), so high frequencies, with 1/r of the coverage, would
/// converge tens of times more slowly: scaling each shell by H_max / H(r) gives every shell the stiffest one's rate,
/// as an EM update (RELION's division by the summed CTF^2 weights) does.</para>
/// </summary>
public static class ShellPreconditioner
{
    /// <summary>Entries for box D: one per integer |k|^2 from 0 to 3 (D/2)^2.</summary>
    public static int Length(int boxSize) => 3 * (boxSize / 2) * (boxSize / 2) + 1;

    /// <summary>H_max / H(r) inside the band (capped), 1 beyond it.</summary>
    /// <param name="boxSize">D</param>
    /// <param name="pixelSize">Å/px</param>
    /// <param name="ctfs">the noise-normalised CTFs of a sample of the particles (at least one)</param>
    /// <param name="bandRadius">r* in Fourier px: the shells the likelihood sees</param>
    /// <param name="cap">largest scale allowed (shells the data barely constrain)</param>
    /// <param name="destination"><see cref="Length"/>(D) floats</param>
    public static void FromCtfs(int boxSize, double pixelSize, IReadOnlyList<CtfEvaluator> ctfs, double bandRadius, double cap, Span<float> destination)
    {
        Fourier.FourierLayout.ValidateBoxSize(boxSize);
        ArgumentNullException.ThrowIfNull(ctfs);
        if (ctfs.Count == 0) throw new ArgumentException("at least one CTF is needed", nameof(ctfs));
        if (!(pixelSize > 0)) throw new ArgumentOutOfRangeException(nameof(pixelSize), pixelSize, "must be > 0");
        if (!(cap >= 1)) throw new ArgumentOutOfRangeException(nameof(cap), cap, "must be >= 1");
        int n = Length(boxSize);
        if (destination.Length != n) throw new ArgumentException($"destination has {destination.Length} floats, expected {n}", nameof(destination));
        const int angles = 8;
        double f = 1 / (boxSize * pixelSize);
        int inBand = (int)Math.Min(n - 1, Math.Floor(bandRadius * bandRadius));
        Span<double> curvature = new double[inBand + 1];
        double max = 0;
        for (int j = 0; j <= inBand; j++)
        {
            double r = Math.Sqrt(j), c2 = 0;
            foreach (var ctf in ctfs)
                for (int a = 0; a < angles; a++)
                {
                    double theta = Math.PI * a / angles;
                    double c = ctf.Evaluate(r * f * Math.Cos(theta), r * f * Math.Sin(theta));
                    c2 += c * c;
                }
            c2 /= ctfs.Count * angles;
            curvature[j] = c2 / Math.Max(2 * r, 1);
            max = Math.Max(max, curvature[j]);
        }
        for (int j = 0; j < n; j++)
            destination[j] = j <= inBand && max > 0
                ? (float)Math.Min(cap, curvature[j] > 0 ? max / curvature[j] : cap)
                : 1f;
    }
}
