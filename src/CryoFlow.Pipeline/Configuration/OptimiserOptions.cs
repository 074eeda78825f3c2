using CryoFlow.Numerics.Optimisation;
using NumericLineSearch = CryoFlow.Numerics.Optimisation.LineSearchOptions;
using NumericOptimiser = CryoFlow.Numerics.Optimisation.OptimiserOptions;

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

/// <summary>
/// Optimiser settings (DESIGN 5, REFERENCE 5.2-5.3). Steps are V -= (eps / L) g, except AdaGrad's
/// V -= eta g / (sqrt(G) + delta). <see cref="CreateOptimiser"/> builds the optimiser these settings describe.
/// </summary>
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

    /// <summary>
    /// Keep the density non-negative after every step (REFERENCE 5.4, the papers: on). Off for maps whose density
    /// relative to the solvent is negative in places (a band-passed or mean-subtracted ground truth); the exponential
    /// prior, defined on v &gt;= 0 only, then cannot be used.
    /// </summary>
    public bool Positivity { get; init; } = true;

    /// <summary>
    /// Diameter, Å, of a spherical solvent mask the density is multiplied by after every step (as RELION's
    /// <c>--particle_diameter</c> with solvent flattening); null: no mask (the papers). Outside it the data barely
    /// constrain the map (the CTF is small at low frequency), so without it the solvent drifts and the ab-initio search
    /// has many more free parameters. Set it a little larger than the particle.
    /// </summary>
    public double? SupportDiameter { get; init; }

    /// <summary>Width, px, of the mask's raised-cosine edge beyond <see cref="SupportDiameter"/> / 2.</summary>
    public double SupportSoftEdgePx { get; init; } = 3;

    /// <summary>The solvent mask's radius in px at this pixel size; null without one.</summary>
    public double? SupportRadiusPixels(double pixelSize) => SupportDiameter is double d ? d / 2 / pixelSize : null;

    /// <summary>
    /// SAGD only: scale each Fourier shell of the averaged gradient by the inverse of the likelihood's curvature there
    /// (&lt;CTF^2/sigma^2&gt;(r) / 2r, relative to its largest), so high frequencies converge as fast as low ones
    /// (<see cref="CryoFlow.Numerics.Optimisation.ShellPreconditioner"/>; CryoFlow, not in the papers). Off: the papers' plain step.
    /// </summary>
    public bool ShellPreconditioner { get; init; }

    /// <summary>The largest factor the shell preconditioner may apply.</summary>
    public double ShellPreconditionerCap { get; init; } = 50;

    /// <summary>AdaGrad's eta(tau), density units per step; required for kind adagrad, ignored otherwise (no source sets it).</summary>
    public Schedule? LearningRate { get; init; }

    /// <summary>
    /// The SAG forgetting window W(tau) = 1 + r tau (mu = 1 - 1/W; <see cref="ReferenceSchedules.ForgettingWindow"/> for r =
    /// 0.1); null when forgetting is off.
    /// </summary>
    public Schedule? ForgettingWindow => Forgetting ? new Schedule.Staircase(start: 1, step: ForgettingRate, every: 1) : null;

    /// <summary>The SAG memory's forgetting factor mu = 1 - 1/(1 + r tau) at iteration tau: 1 when forgetting is off.</summary>
    public double ForgettingFactor(int iteration) => ForgettingWindow is Schedule w ? 1 - 1 / w.At(iteration) : 1;

    /// <summary>
    /// The Numerics settings of <see cref="Kind"/>: step scale, line search and, by kind, the forgetting window, the
    /// momentum (a constant) or the learning rate; positivity at 0 (REFERENCE 5.4). The defaults give
    /// <see cref="SagdOptions.Paper"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">kind adagrad without a learning rate (a validated configuration has one)</exception>
    /// <param name="boxSize">D, px: needed, with <paramref name="pixelSize"/>, when <see cref="SupportDiameter"/> is set</param>
    /// <param name="pixelSize">Å/px of the working box</param>
    /// <exception cref="InvalidOperationException">a support diameter without the box and pixel size to place it in</exception>
    public NumericOptimiser CreateOptimiserOptions(int? boxSize = null, double? pixelSize = null)
    {
        var lineSearch = LineSearch.CreateLineSearch();
        double? bound = Positivity ? 0 : null;
        SphericalSupport? support = null;
        if (SupportDiameter is not null)
        {
            if (boxSize is not int d || pixelSize is not double apix)
                throw new InvalidOperationException("optimiser.supportDiameter: the solvent mask needs the box and pixel size");
            support = new SphericalSupport(d, SupportRadiusPixels(apix)!.Value, SupportSoftEdgePx);
        }
        return Kind switch
        {
            OptimiserKind.Sagd => new SagdOptions { StepScale = StepScale, LineSearch = lineSearch, ForgettingWindow = ForgettingWindow, LowerBound = bound, Support = support },
            OptimiserKind.Sgd => new SgdOptions { StepScale = StepScale, LineSearch = lineSearch, LowerBound = bound, Support = support },
            OptimiserKind.Momentum => new MomentumOptions { StepScale = StepScale, LineSearch = lineSearch, Momentum = new Schedule.Constant(Momentum), LowerBound = bound, Support = support },
            OptimiserKind.Nesterov => new NesterovOptions { StepScale = StepScale, LineSearch = lineSearch, Momentum = new Schedule.Constant(Momentum), LowerBound = bound, Support = support },
            OptimiserKind.Adagrad => new AdaGradOptions
            {
                LearningRate = LearningRate ?? throw new InvalidOperationException("optimiser.learningRate: kind adagrad needs a learning rate"),
                LowerBound = bound,
                Support = support,
            },
            _ => throw new InvalidOperationException($"optimiser.kind: unknown optimiser {Kind}"),
        };
    }

    /// <summary>The optimiser for a run: <see cref="CreateOptimiserOptions"/> built for a parameter vector.</summary>
    /// <param name="volumeLength">parameters, D^3 voxels</param>
    /// <param name="batchCount">training minibatches n (the SAG memory's size)</param>
    /// <param name="history">SAGD's gradient store (e.g. disk-backed); null for one in memory; ignored by the other kinds</param>
    /// <param name="pixelSize">Å/px of the working box; needed when <see cref="SupportDiameter"/> is set</param>
    public IOptimiser CreateOptimiser(int volumeLength, int batchCount, IGradientHistory? history = null, double? pixelSize = null) =>
        CreateOptimiserOptions((int)Math.Round(Math.Cbrt(volumeLength)), pixelSize).Create(volumeLength, batchCount, history);

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.ScheduleValues(nameof(StepScale), StepScale, 0, double.PositiveInfinity, lowOpen: true);
        check.Positive(nameof(ForgettingRate), ForgettingRate);
        check.InRange(nameof(Momentum), Momentum, 0, 1, highOpen: true);
        check.AtLeast(nameof(ShellPreconditionerCap), ShellPreconditionerCap, 1.0);
        if (SupportDiameter is double sd) check.Positive(nameof(SupportDiameter), sd);
        check.AtLeast(nameof(SupportSoftEdgePx), SupportSoftEdgePx, 0.0);
        if (ShellPreconditioner && Kind != OptimiserKind.Sagd) check.Fail(nameof(ShellPreconditioner), $"the shell preconditioner works with kind sagd only (found {Kind.ToString().ToLowerInvariant()})");
        check.ScheduleValues(nameof(LearningRate), LearningRate, 0, double.PositiveInfinity, lowOpen: true);
        if (Kind == OptimiserKind.Adagrad && LearningRate is null) check.Fail(nameof(LearningRate), "kind adagrad needs a learning rate (a schedule, density units per step)");
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

    /// <summary>
    /// Seek the smallest L that passes the sufficient-decrease test (halve a passing L while it passes), as the reference
    /// code's search does (REFERENCE 5.3), instead of only doubling a failing one (the paper). With the per-image-mean
    /// objective L0 = 1 usually passes at once, and without tightening the step stays far smaller than the data allow.
    /// </summary>
    public bool Tighten { get; init; } = true;

    /// <summary>The per-iteration factor on L between searches.</summary>
    public double DecayPerIteration => DecayHalfLife is int h ? Math.Pow(2, -1.0 / h) : 1;

    /// <summary>
    /// The Numerics line-search settings: a search every <see cref="Every"/> iterations (none on a cadence for 0), on
    /// w* changes when asked, from <see cref="InitialL"/>, with the per-iteration decay; the search itself is the
    /// paper's (double L until the sufficient-decrease test passes), tightened when <see cref="Tighten"/> is set.
    /// </summary>
    public NumericLineSearch CreateLineSearch() => new()
    {
        Interval = Every > 0 ? new Schedule.Constant(Every) : null,
        OnMaxFrequencyChange = OnResolutionChange,
        InitialLipschitz = InitialL,
        DecayPerIteration = DecayPerIteration,
        Tighten = Tighten,
    };

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.AtLeast(nameof(Every), Every, 0);
        check.Positive(nameof(InitialL), InitialL);
        if (DecayHalfLife is int h) check.AtLeast(nameof(DecayHalfLife), h, 1);
    }
}
