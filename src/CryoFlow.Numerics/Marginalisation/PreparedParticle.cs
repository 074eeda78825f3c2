using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Marginalisation;

/// <summary>
/// One particle ready for marginalisation, independent of the volume and of the cutoff w*, so it can be kept
/// across iterations (DESIGN.md 6). Written by <see cref="ParticlePreparer"/>; read-only afterwards and then
/// safe to share between threads.
/// <list type="bullet">
/// <item><see cref="Image"/>: the floated, σ-normalised (and optionally contrast-inverted) image x = s (raw - mean) / σ,
/// s = -1 when inverted, premultiplied, zero-padded and transformed by <see cref="ImageRotator.Prepare"/>, ready for
/// <see cref="ImageRotator.Rotate"/>.</item>
/// <item><see cref="NormalisedCtf"/>: the particle's CTF with its scale divided by σ, so data and model are both in
/// units of the noise (REFERENCE.md 1.5): under the model, x's transform is CTF/σ times the slice plus unit white noise.</item>
/// <item>Energies of x for the likelihood's constant terms: <see cref="TotalEnergy"/> = Σ_pixels x² and
/// <see cref="EnergyWithin"/>(r) = Σ_{|k| &lt; r} m_k |X(k)|² on the exact (unrotated, unpadded) D x D transform.</item>
/// </list>
/// </summary>
public sealed class PreparedParticle
{
    private readonly double[] _cumulativeEnergy;

    internal PreparedParticle(FourierImage image)
    {
        Image = image;
        // index n = kx^2 + ky^2 over the disc |k| < D/2
        _cumulativeEnergy = new double[image.BoxSize * image.BoxSize / 4];
    }

    /// <summary>D, px.</summary>
    public int BoxSize => Image.BoxSize;

    /// <summary>Å per pixel of this particle's image.</summary>
    public double PixelSize { get; internal set; }

    /// <summary>The CTF as given (RELION's units and sign), before the division by σ.</summary>
    public CtfParameters Ctf { get; internal set; }

    /// <summary>CTF(k) / σ, the model's transfer function in noise units (scale divided by <see cref="NoiseSigma"/>).</summary>
    public CtfEvaluator NormalisedCtf { get; internal set; }

    /// <summary>Background mean of the raw pixels outside the particle radius (raw units).</summary>
    public double BackgroundMean { get; internal set; }

    /// <summary>Robust noise σ of the raw pixels outside the particle radius: 1.4826 x median |v - median v| (raw units).</summary>
    public double NoiseSigma { get; internal set; }

    /// <summary>Whether the contrast was inverted (protein made white) during preparation.</summary>
    public bool ContrastInverted { get; internal set; }

    /// <summary>Number of background pixels the statistics came from.</summary>
    public int BackgroundPixels { get; internal set; }

    /// <summary>Σ x² over all D² pixels of the normalised image (= Σ over the full spectrum, Parseval).</summary>
    public double TotalEnergy { get; internal set; }

    /// <summary>The premultiplied, padded transform of the normalised image.</summary>
    public FourierImage Image { get; }

    /// <summary>
    /// Σ m_k |X(k)|² over the disc |k| &lt; <paramref name="radius"/> (Fourier px, strict as in <c>FourierDisc</c>) of the
    /// normalised image's unitary D x D transform; radii beyond D/2 count the disc |k| &lt; D/2.
    /// </summary>
    public double EnergyWithin(double radius)
    {
        if (!(radius > 0)) return 0;
        double r2 = radius * radius;
        // k^2 < r^2 for integer k^2 <=> k^2 <= ceil(r^2) - 1
        double top = Math.Ceiling(r2) - 1;
        int n = top >= _cumulativeEnergy.Length ? _cumulativeEnergy.Length - 1 : (int)top;
        return n < 0 ? 0 : _cumulativeEnergy[n];
    }

    internal Span<double> CumulativeEnergy => _cumulativeEnergy;

    /// <summary>Σ m_k |X(k)|² over |k|² &lt;= n, for n = 0..D²/4 - 1 (what <see cref="EnergyWithin"/> reads; for a cache).</summary>
    public ReadOnlySpan<double> CumulativeEnergyTable => _cumulativeEnergy;

    /// <summary>
    /// Fills this particle with what an earlier <see cref="ParticlePreparer.TryPrepare"/> of the same image produced
    /// (kept in a cache of prepared particles), exactly as it would be prepared again; the CTF is taken anew.
    /// </summary>
    /// <param name="transform"><see cref="Image"/>'s values</param>
    /// <param name="cumulativeEnergy"><see cref="CumulativeEnergyTable"/></param>
    public void Restore(ReadOnlySpan<float> transform, ReadOnlySpan<double> cumulativeEnergy, double pixelSize, in CtfParameters ctf,
        double backgroundMean, double noiseSigma, bool contrastInverted, int backgroundPixels, double totalEnergy)
    {
        if (transform.Length != Image.Values.Length) throw new ArgumentException($"{transform.Length} floats for a transform of {Image.Values.Length}", nameof(transform));
        if (cumulativeEnergy.Length != _cumulativeEnergy.Length)
            throw new ArgumentException($"{cumulativeEnergy.Length} energies for a table of {_cumulativeEnergy.Length}", nameof(cumulativeEnergy));
        if (!(noiseSigma > 0)) throw new ArgumentOutOfRangeException(nameof(noiseSigma), noiseSigma, "the noise sigma of a prepared particle is positive");
        transform.CopyTo(Image.Values);
        cumulativeEnergy.CopyTo(_cumulativeEnergy);
        SetStatistics(pixelSize, ctf, backgroundMean, noiseSigma, contrastInverted, backgroundPixels, totalEnergy);
    }

    internal void SetStatistics(double pixelSize, in CtfParameters ctf, double backgroundMean, double noiseSigma, bool contrastInverted, int backgroundPixels, double totalEnergy)
    {
        PixelSize = pixelSize;
        Ctf = ctf;
        NormalisedCtf = (ctf with { Scale = ctf.Scale / noiseSigma }).CreateEvaluator();
        BackgroundMean = backgroundMean;
        NoiseSigma = noiseSigma;
        ContrastInverted = contrastInverted;
        BackgroundPixels = backgroundPixels;
        TotalEnergy = totalEnergy;
    }
}
