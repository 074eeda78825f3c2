using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Pipeline.Configuration;

/// <summary>
/// The maximum frequency w* used by the likelihood (DESIGN 5, REFERENCE 5.7). The effective value at iteration tau is
/// min(MaxFrequency(tau), ceiling), the ceiling being NyquistFraction / (2 apix) and, when set, 1 / TargetResolution.
/// </summary>
public sealed record ResolutionOptions : IConfigSection
{
    /// <summary>
    /// w*(tau), 1/Å, by iteration: min(0.11, 0.02 + 0.005 floor(tau/150)) (DESIGN 5, TPAMI; <see cref="PaperSchedules.MaxFrequency"/>;
    /// the reference code's differs, REFERENCE 2.5).
    /// </summary>
    public Schedule MaxFrequency { get; init; } = PaperSchedules.MaxFrequency;

    /// <summary>Ceiling as a fraction of Nyquist 1/(2 apix) (REFERENCE 2.5: rad_cutoff 1, i.e. Nyquist).</summary>
    public double NyquistFraction { get; init; } = 1;

    /// <summary>Target resolution, Å: also caps w* at its inverse; null: no target.</summary>
    public double? TargetResolution { get; init; }

    /// <summary>When to stop early on the held-out NLL.</summary>
    public StopOptions Stop { get; init; } = new();

    /// <summary>The ceiling on w*, 1/Å, for images of this pixel size (Å/px).</summary>
    public double CeilingFrequency(double pixelSize)
    {
        if (!(pixelSize > 0)) throw new ArgumentOutOfRangeException(nameof(pixelSize), pixelSize, "pixel size must be positive");
        double ceiling = NyquistFraction / (2 * pixelSize);
        return TargetResolution is double r ? Math.Min(ceiling, 1 / r) : ceiling;
    }

    /// <summary>The effective w*, 1/Å, at iteration tau.</summary>
    public double MaxFrequencyAt(int iteration, double pixelSize) => Math.Min(MaxFrequency.At(iteration), CeilingFrequency(pixelSize));

    /// <summary>
    /// The quadrature stages of a run of <paramref name="iterations"/> iterations: one per value of the effective w*
    /// (a stage begins at each change, the first at iteration 0), in order, with its first iteration tau.
    /// </summary>
    public IReadOnlyList<(int FirstIteration, double MaxFrequency)> Stages(double pixelSize, int iterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var stages = new List<(int, double)>();
        for (int tau = 0; tau < iterations; tau++)
        {
            double w = MaxFrequencyAt(tau, pixelSize);
            if (stages.Count == 0 || w != stages[^1].Item2) stages.Add((tau, w));
        }
        return stages;
    }

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.ScheduleValues(nameof(MaxFrequency), MaxFrequency, 0, double.PositiveInfinity, lowOpen: true);
        check.InRange(nameof(NyquistFraction), NyquistFraction, 0, 1, lowOpen: true);
        check.Positive(nameof(TargetResolution), TargetResolution);
    }
}

/// <summary>
/// Stop when the held-out mean NLL has not improved by more than MinDelta over Patience consecutive test-set evaluations
/// at the same w* (so it can only trigger on a stage longer than Patience evaluations, in practice the last).
/// </summary>
public sealed record StopOptions : IConfigSection
{
    /// <summary>Test-set evaluations without improvement before stopping; 0: never stop early (the papers and the reference code run to the iteration limit).</summary>
    public int Patience { get; init; } = 20;

    /// <summary>Smallest decrease of the held-out mean NLL per image that counts as an improvement.</summary>
    public double MinDelta { get; init; }

    /// <summary>
    /// Once w* is at its ceiling, keep the map (and the poses) whose held-out NLL is the lowest so far, and write that one
    /// as RUN/map.mrc and RUN/particles.star when the run ends worse (the final map then stays in RUN/iterations/).
    /// False: the final map, as the paper.
    /// </summary>
    public bool KeepBest { get; init; }

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.AtLeast(nameof(Patience), Patience, 0);
        check.AtLeast(nameof(MinDelta), MinDelta, 0.0);
    }
}
