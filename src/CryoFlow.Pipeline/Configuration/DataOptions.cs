using CryoFlow.Numerics.Marginalisation;

namespace CryoFlow.Pipeline.Configuration;

/// <summary>How particle images become likelihood input (DESIGN 6, REFERENCE 1). Lengths in Å unless the key says px.</summary>
public sealed record DataOptions : IConfigSection
{
    /// <summary>Å/px of the input; null: from the particle file (STAR/.cs), else the MRC header.</summary>
    public double? PixelSize { get; init; }

    /// <summary>Particles per training minibatch (DESIGN 5, REFERENCE 1.6: 200).</summary>
    public int MinibatchSize { get; init; } = 200;

    /// <summary>Held-out test particles, never used for gradients (DESIGN 7, REFERENCE 1.6: 200).</summary>
    public int TestSetSize { get; init; } = 200;

    /// <summary>Cap on the test set as a fraction of all particles, so small datasets keep most particles for training.</summary>
    public double TestSetMaxFraction { get; init; } = 0.1;

    /// <summary>Particle radius, Å; null: <see cref="ParticleRadiusFraction"/> of half the box.</summary>
    public double? ParticleRadius { get; init; }

    /// <summary>Particle radius as a fraction of half the box, used when <see cref="ParticleRadius"/> is null (REFERENCE 1.9: 0.95).</summary>
    public double ParticleRadiusFraction { get; init; } = 0.95;

    /// <summary>Circular mask at the particle radius (DESIGN 6.2, REFERENCE 1.4).</summary>
    public MaskOptions Mask { get; init; } = new();

    /// <summary>Background and noise estimation from the border (DESIGN 6.2, REFERENCE 1.2-1.3).</summary>
    public NoiseOptions Noise { get; init; } = new();

    /// <summary>Multiply images by -1 before anything else (DESIGN 6.3: RELION-extracted data are usually already inverted).</summary>
    public bool InvertContrast { get; init; }

    /// <summary>Fourier cropping of the input to a smaller working box (DESIGN 6.1).</summary>
    public WorkingBoxOptions WorkingBox { get; init; } = new();

    /// <summary>
    /// An MRC map to start from instead of the random start (null: random spheres, the ab-initio case). Its box and
    /// voxel size must match the particles'; its density is taken as it is, in the units of the particle images.
    /// </summary>
    public string? InitialMap { get; init; }

    /// <summary>min(TestSetSize, floor(TestSetMaxFraction * particles)): the test set for a dataset of this size.</summary>
    public int TestSetSizeFor(long particleCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(particleCount);
        return (int)Math.Min(TestSetSize, (long)Math.Floor(TestSetMaxFraction * particleCount));
    }

    /// <summary>The particle radius in pixels of a box of this size and pixel size.</summary>
    public double ParticleRadiusPixels(int boxSize, double pixelSize) =>
        ParticleRadius is double r ? r / pixelSize : ParticleRadiusFraction * boxSize / 2.0;

    /// <summary>
    /// How particles of this box are prepared: background statistics from the border (pixels farther than
    /// D/2 - borderWidthPx from the centre, REFERENCE 1.3), then the circular mask at the particle radius (REFERENCE 1.4).
    /// </summary>
    public ParticlePreparationOptions PreparationFor(int boxSize, double pixelSize) =>
        new(boxSize / 2.0 - Noise.BorderWidthPx, InvertContrast,
            MaskRadius: Mask.Enabled ? ParticleRadiusPixels(boxSize, pixelSize) : null, MaskSoftEdge: Mask.SoftEdgePx,
            PlainStandardDeviation: Noise.Estimator == NoiseEstimator.Std, KeepBackground: !Noise.SubtractBackground);

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.Positive(nameof(PixelSize), PixelSize);
        check.AtLeast(nameof(MinibatchSize), MinibatchSize, 1);
        check.AtLeast(nameof(TestSetSize), TestSetSize, 0);
        check.InRange(nameof(TestSetMaxFraction), TestSetMaxFraction, 0, 1, highOpen: true);
        check.Positive(nameof(ParticleRadius), ParticleRadius);
        check.InRange(nameof(ParticleRadiusFraction), ParticleRadiusFraction, 0, 1, lowOpen: true);
    }
}

/// <summary>The circular mask applied to every image after the noise estimate.</summary>
public sealed record MaskOptions : IConfigSection
{
    /// <summary>
    /// Apply it (REFERENCE 1.4: on, hard edge). Off by default: only the data are masked, not the model, and the CTF
    /// spreads every projection beyond the particle radius, so outside the mask the model always predicts signal the
    /// masked data lack; on small boxes that pull drove the density to zero in CryoFlow's tests.
    /// </summary>
    public bool Enabled { get; init; }

    /// <summary>Width of the raised-cosine edge outside the radius, px; 0: hard edge (REFERENCE 1.4).</summary>
    public double SoftEdgePx { get; init; }

    void IConfigSection.Validate(ConfigChecks check) => check.AtLeast(nameof(SoftEdgePx), SoftEdgePx, 0.0);
}

/// <summary>Robust or plain noise standard deviation.</summary>
public enum NoiseEstimator
{
    /// <summary>1.4826 median(|v|) about zero (REFERENCE 1.3): resists neighbouring particles in the border.</summary>
    Mad,

    /// <summary>Standard deviation about the mean (the papers).</summary>
    Std,
}

/// <summary>Over what the noise sigma is pooled.</summary>
public enum NoiseScope
{
    /// <summary>One sigma per particle from its own border (DESIGN 3, 6.2).</summary>
    Particle,

    /// <summary>One sigma pooled over all particles' borders (REFERENCE 1.3).</summary>
    Dataset,
}

/// <summary>"Floating" and noise normalisation: images and CTFs are divided by sigma so the likelihood sees unit noise.</summary>
public sealed record NoiseOptions : IConfigSection
{
    /// <summary>The border: pixels farther than D/2 - BorderWidthPx from the centre (REFERENCE 1.3: 1.5, i.e. the corners plus a thin ring).</summary>
    public double BorderWidthPx { get; init; } = 1.5;

    /// <summary>REFERENCE 1.3, DESIGN 6.2: mad.</summary>
    public NoiseEstimator Estimator { get; init; } = NoiseEstimator.Mad;

    /// <summary>DESIGN 6.2: particle.</summary>
    public NoiseScope Scope { get; init; } = NoiseScope.Particle;

    /// <summary>Subtract the border mean from each image (REFERENCE 1.2, DESIGN 6.2).</summary>
    public bool SubtractBackground { get; init; } = true;

    void IConfigSection.Validate(ConfigChecks check) => check.AtLeast(nameof(BorderWidthPx), BorderWidthPx, 0.0);
}

/// <summary>How the working box is chosen.</summary>
public enum WorkingBoxPolicy
{
    /// <summary>Keep the input box.</summary>
    None,

    /// <summary>Fourier-crop to <see cref="WorkingBoxOptions.Size"/>.</summary>
    Fixed,

    /// <summary>Fourier-crop to the smallest even box whose Nyquist frequency reaches the resolution ceiling.</summary>
    Ceiling,
}

/// <summary>Fourier cropping of the input (DESIGN 6.1).</summary>
public sealed record WorkingBoxOptions : IConfigSection
{
    public WorkingBoxPolicy Policy { get; init; } = WorkingBoxPolicy.None;

    /// <summary>Working box edge, px (even), for policy fixed; ignored otherwise.</summary>
    public int? Size { get; init; }

    void IConfigSection.Validate(ConfigChecks check)
    {
        if (Policy == WorkingBoxPolicy.Fixed && Size is null) check.Fail(nameof(Size), "policy fixed needs a size (px)");
        if (Size is int s && (s < 8 || s % 2 != 0)) check.Fail(nameof(Size), $"must be even and >= 8 (found {s})");
    }
}
