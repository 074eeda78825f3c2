using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Pipeline.Configuration;

/// <summary>The stochastic optimiser of the density (DESIGN 5).</summary>
public enum OptimiserKind
{
    /// <summary>Stochastic average gradient descent (the papers).</summary>
    Sagd,

    /// <summary>Plain stochastic gradient descent.</summary>
    Sgd,

    /// <summary>Heavy-ball momentum.</summary>
    Momentum,

    /// <summary>Nesterov accelerated gradient.</summary>
    Nesterov,

    /// <summary>AdaGrad.</summary>
    Adagrad,
}

/// <summary>Optimiser settings (DESIGN 5, REFERENCE 5.2-5.3). Steps are V -= (eps / L) g.</summary>
public sealed record OptimiserOptions : IConfigSection
{
    /// <summary>DESIGN 5: sagd.</summary>
    public OptimiserKind Kind { get; init; } = OptimiserKind.Sagd;

    /// <summary>eps(tau) = max(1/16, 2^(1 - floor(tau/150))) (DESIGN 5, TPAMI; <see cref="PaperSchedules.StepScale"/>). The reference code: 1/min(16, 2^stage) (REFERENCE 5.2).</summary>
    public Schedule StepScale { get; init; } = PaperSchedules.StepScale;

    /// <summary>Lipschitz estimate L by line search.</summary>
    public LineSearchOptions LineSearch { get; init; } = new();

    /// <summary>Exponentially forget old minibatch gradients in the SAG memory (REFERENCE 5.2; the papers: off).</summary>
    public bool Forgetting { get; init; }

    /// <summary>r in the forgetting factor mu(tau) = 1 - 1/(1 + r tau) (REFERENCE 5.2: 0.1).</summary>
    public double ForgettingRate { get; init; } = 0.1;

    /// <summary>Momentum coefficient for kind momentum and nesterov (the conventional 0.9; no source sets it).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>The SAG memory's forgetting factor mu at iteration tau: 1 when forgetting is off.</summary>
    public double ForgettingFactor(int iteration) => Forgetting ? 1 - 1 / (1 + ForgettingRate * iteration) : 1;

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.ScheduleValues(nameof(StepScale), StepScale, 0, double.PositiveInfinity, lowOpen: true);
        check.Positive(nameof(ForgettingRate), ForgettingRate);
        check.InRange(nameof(Momentum), Momentum, 0, 1, highOpen: true);
    }
}

/// <summary>
/// When L is re-estimated on the current minibatch, f(V) - f(V - g/L) &gt;= |g|^2 / 2L, and how it decays in between
/// (DESIGN 5; the reference code searches every 5, 3, then 1 iterations and never decays, REFERENCE 5.3).
/// </summary>
public sealed record LineSearchOptions : IConfigSection
{
    /// <summary>Search every this many iterations (DESIGN 5: about 20); 0: only at the start and on w* changes.</summary>
    public int Every { get; init; } = 20;

    /// <summary>Also search when w* changes (REFERENCE 5.3).</summary>
    public bool OnResolutionChange { get; init; } = true;

    /// <summary>L0, the first search's starting point (REFERENCE 5.3: 1).</summary>
    public double InitialL { get; init; } = 1;

    /// <summary>Between searches L is multiplied by 2^(-1/DecayHalfLife) per iteration (DESIGN 5: 150, i.e. 2^(-1/150)); null: no decay.</summary>
    public int? DecayHalfLife { get; init; } = 150;

    /// <summary>The per-iteration factor on L between searches.</summary>
    public double DecayPerIteration => DecayHalfLife is int h ? Math.Pow(2, -1.0 / h) : 1;

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.AtLeast(nameof(Every), Every, 0);
        check.Positive(nameof(InitialL), InitialL);
        if (DecayHalfLife is int h) check.AtLeast(nameof(DecayHalfLife), h, 1);
    }
}
