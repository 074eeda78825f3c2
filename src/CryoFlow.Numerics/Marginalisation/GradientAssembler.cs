using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Marginalisation;

/// <summary>How <see cref="GradientAssembler"/> scales the minibatch gradient.</summary>
public enum GradientScaling
{
    /// <summary>The gradient of Σ_particles LL.</summary>
    Sum,

    /// <summary>The gradient of the per-image mean (Σ LL) / N, as the SAGD objective wants (DESIGN.md 5).</summary>
    PerImageMean,
}

/// <summary>A minibatch's totals, summed over workers in their given order.</summary>
/// <param name="Particles">particles accumulated</param>
/// <param name="LogLikelihoodSum">Σ LL</param>
public readonly record struct MinibatchTotals(long Particles, double LogLikelihoodSum)
{
    /// <summary>Σ LL / N (NaN when empty).</summary>
    public double MeanLogLikelihood => Particles == 0 ? double.NaN : LogLikelihoodSum / Particles;
}

/// <summary>
/// Maps per-direction slice gradients to the gradient of the log-likelihood with respect to the real-space density
/// (DESIGN.md 3.2; REFERENCE.md 3.4): reduce the workers' <see cref="SliceGradient"/>s direction by direction in the
/// order given, convert G = dLL/dRe S + i dLL/dIm S to the projector's convention g = G / m_k (the adjoint of
/// <see cref="VolumeProjector.Project(FourierVolume, Fourier.FourierDisc, in Geometry.Rotation3, Span{float})"/> is
/// taken under &lt;a, b&gt;_m = Σ m_k Re(conj a b), so dLL = Σ Re(conj G dS) = &lt;G/m, dS&gt;_m), scatter with
/// <see cref="VolumeProjector.ProjectAdjointAdd(ReadOnlySpan{float}, Fourier.FourierDisc, in Geometry.Rotation3, FourierVolume)"/>
/// into one Fourier accumulator in direction order, then <see cref="VolumeProjector.TransformAdjoint"/> (inverse FFT,
/// crop, premultiplication). Every reduction runs in a fixed order on one thread, so the result depends only on the
/// workers' contents and order. The result is the gradient of LL (ascent direction); negate it for the NLL.
/// Uses the projector's scratch: not concurrently with other uses of the same projector.
/// </summary>
public sealed class GradientAssembler
{
    private readonly VolumeProjector _projector;
    private readonly FourierVolume _accumulator;
    private float[] _row = [];

    /// <param name="projector">the projector whose slices were differentiated</param>
    public GradientAssembler(VolumeProjector projector)
    {
        ArgumentNullException.ThrowIfNull(projector);
        _projector = projector;
        _accumulator = projector.CreateFourierVolume();
    }

    /// <summary>Reduces, scatters and transforms; returns the totals.</summary>
    /// <param name="slices">the slice set the gradients refer to (its disc and rotations)</param>
    /// <param name="workers">per-worker sums, in a fixed order</param>
    /// <param name="scaling">sum, or per-image mean over the particles counted in <paramref name="workers"/></param>
    /// <param name="volumeGradient">receives D³ floats, [z][y][x] (overwritten)</param>
    public MinibatchTotals Assemble(SliceSet slices, ReadOnlySpan<SliceGradient> workers, GradientScaling scaling, Span<float> volumeGradient)
    {
        ArgumentNullException.ThrowIfNull(slices);
        int nk = slices.Points;
        long particles = 0;
        double llSum = 0;
        foreach (var w in workers)
        {
            ArgumentNullException.ThrowIfNull(w);
            if (w.Directions != slices.Count || w.Points != nk)
                throw new ArgumentException($"worker gradient is {w.Directions} x {w.Points}, slice set {slices.Count} x {nk}", nameof(workers));
            particles += w.Particles;
            llSum += w.LogLikelihoodSum;
        }
        var totals = new MinibatchTotals(particles, llSum);
        double scale = scaling == GradientScaling.PerImageMean ? (particles == 0 ? 0 : 1.0 / particles) : 1.0;
        if (_row.Length != 2 * nk) _row = new float[2 * nk];
        var row = _row.AsSpan();
        var m = slices.Disc.Multiplicity;
        _accumulator.Clear();
        for (int d = 0; d < slices.Count; d++)
        {
            bool any = false;
            foreach (var w in workers)
            {
                if (!w.IsTouched(d)) continue;
                var re = w.Re.Slice(d * nk, nk);
                var im = w.Im.Slice(d * nk, nk);
                if (!any)
                {
                    for (int k = 0; k < nk; k++) { row[2 * k] = re[k]; row[2 * k + 1] = im[k]; }
                    any = true;
                }
                else
                {
                    for (int k = 0; k < nk; k++) { row[2 * k] += re[k]; row[2 * k + 1] += im[k]; }
                }
            }
            if (!any) continue;
            for (int k = 0; k < nk; k++)
            {
                float f = (float)(scale / m[k]);
                row[2 * k] *= f;
                row[2 * k + 1] *= f;
            }
            _projector.ProjectAdjointAdd(row, slices.Disc, slices.Rotations[d], _accumulator);
        }
        _projector.TransformAdjoint(_accumulator, volumeGradient);
        return totals;
    }
}
