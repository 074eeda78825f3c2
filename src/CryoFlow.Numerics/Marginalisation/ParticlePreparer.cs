using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Marginalisation;

/// <summary>How raw particle images are floated and normalised (DESIGN.md 6).</summary>
/// <param name="ParticleRadius">radius in px around the box centre (pixel D/2) inside which the particle lies; the
/// background statistics come from the pixels strictly outside it</param>
/// <param name="InvertContrast">multiply the floated image by -1 (for dark-protein data; RELION extraction usually
/// inverts already)</param>
/// <param name="MinimumBackgroundPixels">fewer background pixels than this is a failed preparation</param>
/// <param name="MaskRadius">px: after the noise estimate, pixels beyond this radius from the centre are zeroed (REFERENCE 1.4's
/// windowing); null for no mask</param>
/// <param name="MaskSoftEdge">px: width of a raised-cosine edge beyond <paramref name="MaskRadius"/>; 0 for a hard edge</param>
/// <param name="PlainStandardDeviation">σ as the ring's standard deviation about its mean (the papers) instead of the
/// robust 1.4826 median |v - median|</param>
/// <param name="KeepBackground">do not subtract the ring's mean ("floating" off)</param>
/// <param name="FixedSigma">use this σ for every image (a noise level pooled over the dataset) instead of each ring's</param>
public readonly record struct ParticlePreparationOptions(double ParticleRadius, bool InvertContrast = false, int MinimumBackgroundPixels = 64,
    double? MaskRadius = null, double MaskSoftEdge = 0, bool PlainStandardDeviation = false, bool KeepBackground = false, double? FixedSigma = null);

/// <summary>Why a particle could not be prepared.</summary>
public enum PreparationStatus
{
    /// <summary>Prepared.</summary>
    Ok,

    /// <summary>A pixel is NaN or infinite.</summary>
    NonFinitePixel,

    /// <summary>The ring outside the particle radius has fewer than the minimum number of pixels.</summary>
    TooFewBackgroundPixels,

    /// <summary>The robust noise σ of the background is zero (constant or mostly constant border).</summary>
    ZeroBackgroundNoise,
}

/// <summary>
/// Turns raw particle pixels into a <see cref="PreparedParticle"/> (DESIGN.md 6, REFERENCE.md 1.2-1.5 but per
/// particle): background mean and robust noise σ from the ring outside the particle radius
/// (σ = 1.4826 x the median absolute deviation about the median), x = s (raw - mean) / σ with s = -1 when inverting
/// contrast, then <see cref="ImageRotator.Prepare"/> and the energy profile of x. The CTF is kept and its scale divided
/// by σ, so the likelihood sees unit noise. One preparer per worker (it owns scratch); allocation-free per particle
/// when the destination is reused.
/// </summary>
public sealed class ParticlePreparer
{
    private readonly ImageRotator _rotator;
    private readonly IFft2D _fft;
    private readonly FourierDisc _fullDisc;
    private readonly float[] _normalised, _ring, _halfPlane;
    private readonly int[] _ringIndex;
    private readonly float[]? _mask;

    /// <param name="rotator">the rotator the marginaliser will use (fixes D, padding and premultiplication)</param>
    /// <param name="options">particle radius and contrast</param>
    /// <param name="backend">FFT backend for the energy profile; <see cref="FftBackends.Default"/> when null</param>
    public ParticlePreparer(ImageRotator rotator, ParticlePreparationOptions options, IFftBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(rotator);
        if (!(options.ParticleRadius >= 0) || double.IsInfinity(options.ParticleRadius))
            throw new ArgumentOutOfRangeException(nameof(options), options.ParticleRadius, "particle radius must be finite and >= 0 px");
        if (options.MinimumBackgroundPixels < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MinimumBackgroundPixels, "minimum background pixels must be >= 1");
        _rotator = rotator;
        Options = options;
        int d = rotator.BoxSize;
        _fft = (backend ?? FftBackends.Default).Plan2D(d);
        _fullDisc = new FourierDisc(d, d / 2.0);
        _normalised = new float[d * d];
        _halfPlane = new float[2 * FourierLayout.HalfPlaneLength(d)];
        double r2 = options.ParticleRadius * options.ParticleRadius;
        var ring = new List<int>();
        for (int y = 0; y < d; y++)
            for (int x = 0; x < d; x++)
            {
                double dx = x - d / 2, dy = y - d / 2;
                if (dx * dx + dy * dy > r2) ring.Add(y * d + x);
            }
        _ringIndex = ring.ToArray();
        _ring = new float[_ringIndex.Length];
        if (options.MaskRadius is double r)
        {
            if (!(r > 0) || !(options.MaskSoftEdge >= 0))
                throw new ArgumentOutOfRangeException(nameof(options), r, "mask radius must be positive and the soft edge >= 0 px");
            _mask = new float[d * d];
            for (int y = 0; y < d; y++)
                for (int x = 0; x < d; x++)
                {
                    double dist = Math.Sqrt((double)(x - d / 2) * (x - d / 2) + (double)(y - d / 2) * (y - d / 2));
                    _mask[y * d + x] = dist <= r ? 1f
                        : options.MaskSoftEdge > 0 && dist < r + options.MaskSoftEdge ? (float)(0.5 * (1 + Math.Cos(Math.PI * (dist - r) / options.MaskSoftEdge)))
                        : 0f;
                }
        }
    }

    public ParticlePreparationOptions Options { get; }

    /// <summary>D, px.</summary>
    public int BoxSize => _rotator.BoxSize;

    /// <summary>Number of pixels in the background ring.</summary>
    public int BackgroundPixelCount => _ringIndex.Length;

    /// <summary>A destination for <see cref="Prepare"/> (allocates the padded transform; reuse it).</summary>
    public PreparedParticle CreateParticle() => new(_rotator.CreateImage());

    /// <summary>
    /// Background mean and robust σ of <paramref name="pixels"/>, and the normalised image, without the Fourier steps.
    /// </summary>
    /// <param name="pixels">D x D raw pixels, [y][x]</param>
    /// <param name="normalised">receives D x D pixels x = s (raw - mean) / σ (undefined unless the status is Ok)</param>
    public PreparationStatus Normalise(ReadOnlySpan<float> pixels, Span<float> normalised, out double mean, out double sigma)
    {
        int n = BoxSize * BoxSize;
        if (pixels.Length != n) throw new ArgumentException($"image has {pixels.Length} pixels, expected D^2 = {n}", nameof(pixels));
        if (normalised.Length != n) throw new ArgumentException($"output has {normalised.Length} pixels, expected D^2 = {n}", nameof(normalised));
        mean = 0;
        sigma = 0;
        for (int i = 0; i < n; i++)
            if (!float.IsFinite(pixels[i])) return PreparationStatus.NonFinitePixel;
        if (_ringIndex.Length < Options.MinimumBackgroundPixels) return PreparationStatus.TooFewBackgroundPixels;

        var ring = _ring.AsSpan();
        double sum = 0;
        for (int i = 0; i < ring.Length; i++)
        {
            ring[i] = pixels[_ringIndex[i]];
            sum += ring[i];
        }
        mean = sum / ring.Length;
        if (Options.FixedSigma is double fixedSigma)
        {
            sigma = fixedSigma;
        }
        else if (Options.PlainStandardDeviation)
        {
            double squares = 0;
            for (int i = 0; i < ring.Length; i++) squares += (ring[i] - mean) * (ring[i] - mean);
            sigma = Math.Sqrt(squares / Math.Max(1, ring.Length - 1));
        }
        else
        {
            double median = RobustStatistics.Median(ring);
            for (int i = 0; i < ring.Length; i++) ring[i] = (float)Math.Abs(ring[i] - median);
            sigma = RobustStatistics.MadToSigma * RobustStatistics.Median(ring);
        }
        if (!(sigma > 0)) return PreparationStatus.ZeroBackgroundNoise;
        if (Options.KeepBackground) mean = 0;

        double scale = (Options.InvertContrast ? -1 : 1) / sigma;
        for (int i = 0; i < n; i++) normalised[i] = (float)((pixels[i] - mean) * scale);
        return PreparationStatus.Ok;
    }

    /// <summary>Prepares one particle into <paramref name="destination"/>; its contents are undefined unless Ok.</summary>
    /// <param name="pixels">D x D raw pixels, [y][x], centre pixel D/2</param>
    /// <param name="pixelSize">Å/px of this image</param>
    /// <param name="ctf">the particle's CTF (RELION units and sign)</param>
    /// <param name="destination">from <see cref="CreateParticle"/>, possibly reused</param>
    public PreparationStatus TryPrepare(ReadOnlySpan<float> pixels, double pixelSize, in CtfParameters ctf, PreparedParticle destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.BoxSize != BoxSize || destination.Image.Oversampling != _rotator.Options.Oversampling)
            throw new ArgumentException("destination was not created by a preparer of this box size and padding", nameof(destination));
        if (!(pixelSize > 0) || double.IsInfinity(pixelSize)) throw new ArgumentOutOfRangeException(nameof(pixelSize), pixelSize, "pixel size must be positive");
        var x = _normalised.AsSpan();
        var status = Normalise(pixels, x, out double mean, out double sigma);
        if (status != PreparationStatus.Ok) return status;
        if (_mask is not null) System.Numerics.Tensors.TensorPrimitives.Multiply(x, _mask, x);

        _rotator.Prepare(x, destination.Image);

        double total = 0;
        for (int i = 0; i < x.Length; i++) total += (double)x[i] * x[i];
        _fft.Forward(x, _halfPlane);
        var cumulative = destination.CumulativeEnergy;
        cumulative.Clear();
        var kx = _fullDisc.Kx;
        var ky = _fullDisc.Ky;
        var m = _fullDisc.Multiplicity;
        var index = _fullDisc.HalfPlaneIndex;
        for (int j = 0; j < _fullDisc.Count; j++)
        {
            int i = 2 * index[j];
            double re = _halfPlane[i], im = _halfPlane[i + 1];
            cumulative[kx[j] * kx[j] + ky[j] * ky[j]] += m[j] * (re * re + im * im);
        }
        for (int k = 1; k < cumulative.Length; k++) cumulative[k] += cumulative[k - 1];

        destination.SetStatistics(pixelSize, ctf, mean, sigma, Options.InvertContrast, _ringIndex.Length, total);
        return PreparationStatus.Ok;
    }

    /// <summary><see cref="TryPrepare"/>, throwing <see cref="ArgumentException"/> for an image that cannot be prepared.</summary>
    public void Prepare(ReadOnlySpan<float> pixels, double pixelSize, in CtfParameters ctf, PreparedParticle destination)
    {
        var status = TryPrepare(pixels, pixelSize, ctf, destination);
        if (status != PreparationStatus.Ok)
            throw new ArgumentException($"particle cannot be prepared: {status} (radius {Options.ParticleRadius} px, {_ringIndex.Length} background pixels)", nameof(pixels));
    }
}
