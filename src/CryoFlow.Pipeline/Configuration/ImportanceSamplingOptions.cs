using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Pipeline.Configuration;

/// <summary>
/// Factored importance sampling over directions, in-plane angles and shifts (DESIGN 4.2, REFERENCE 4). Defaults are the
/// reference code's (REFERENCE 4.3-4.5); the papers' variants are noted per key (REFERENCE 7).
/// </summary>
public sealed record ImportanceSamplingOptions : IConfigSection
{
    /// <summary>
    /// On: after a particle's first visit only an importance-sampled part of the grid is evaluated (DESIGN 4.2). Off:
    /// every particle evaluates the full quadrature grid at every visit (--set importanceSampling.enabled=false). On by
    /// default, as in the papers: the same maps as the full grids at a fraction of the cost (BENCHMARKS.md, issue 5).
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>s0: samples drawn = ceil(s0 ESS(q)) (DESIGN 4.2, REFERENCE 4.5: 10).</summary>
    public double EssScale { get; init; } = 10;

    /// <summary>
    /// alpha, the share of the proposal not taken from the particle's own last posterior, as a function of the iteration of
    /// the particle's <b>previous</b> visit: max(0.05, 2^(-0.005 max(0, it - 50))) (REFERENCE 4.5), i.e. 0.5^((it - 50)/200).
    /// The papers': max(0.05, 2^(-0.25 floor(tau/50))), i.e. exponential initial 1, factor 2^-0.25, every 50, stepped, floor 0.05.
    /// </summary>
    public Schedule UniformShare { get; init; } = new Schedule.Exponential(initial: 1, factor: 0.5, every: 200, offset: 50, floor: 0.05);

    /// <summary>
    /// T, the annealing temperature applied when a posterior is recorded, as a function of the recording iteration:
    /// max(1, 2^(750 / max(1, it - 50))) (REFERENCE 4.3). The papers': max(1.25, 2^(10 / floor(tau/50))).
    /// </summary>
    public Schedule Temperature { get; init; } = new Schedule.Annealing(@base: 2, scale: 750, offset: 50, floor: 1);

    /// <summary>gamma per factor: share of the dataset-average ("global") distribution inside alpha (REFERENCE 4.5, 4.6).</summary>
    public GlobalShareOptions GlobalShare { get; init; } = new();

    /// <summary>Kernels identify d with -d and psi with psi + pi while the iteration is below this (REFERENCE 4.4: 2500).</summary>
    public int ChiralityFlipUntil { get; init; } = 2500;

    /// <summary>Evaluate the full grid when ESS(q) reaches this fraction of the grid (REFERENCE 4.5: 0.95).</summary>
    public double FullGridEssFraction { get; init; } = 0.95;

    /// <summary>Shift kernel sigma as a multiple of the recorded grid's nearest-neighbour spacing (REFERENCE 4.4: 0.67).</summary>
    public double ShiftKernelScale { get; init; } = 0.67;

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.Positive(nameof(EssScale), EssScale);
        check.ScheduleValues(nameof(UniformShare), UniformShare, 0, 1);
        check.ScheduleValues(nameof(Temperature), Temperature, 0, double.PositiveInfinity, lowOpen: true);
        check.AtLeast(nameof(ChiralityFlipUntil), ChiralityFlipUntil, 0);
        check.InRange(nameof(FullGridEssFraction), FullGridEssFraction, 0, 1, lowOpen: true);
        check.Positive(nameof(ShiftKernelScale), ShiftKernelScale);
    }
}

/// <summary>gamma, the global distribution's share of the non-particle part of each proposal (the rest is uniform).</summary>
public sealed record GlobalShareOptions : IConfigSection
{
    /// <summary>REFERENCE 4.5: 0.9.</summary>
    public double Directions { get; init; } = 0.9;

    /// <summary>REFERENCE 4.5: 1e-10, i.e. uniform.</summary>
    public double InPlane { get; init; }

    /// <summary>REFERENCE 4.5: 0.9.</summary>
    public double Shifts { get; init; } = 0.9;

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.InRange(nameof(Directions), Directions, 0, 1);
        check.InRange(nameof(InPlane), InPlane, 0, 1);
        check.InRange(nameof(Shifts), Shifts, 0, 1);
    }
}
