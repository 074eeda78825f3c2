namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// The choice of optimiser and its settings, one plain record per kind. <see cref="Create"/> builds the optimiser
/// for a parameter vector of a given length. Users do not write these: the reconstruction configuration
/// (configs/*.json, <c>ReconstructConfig.Optimiser</c>) is the JSON and builds them.
/// </summary>
public abstract record OptimiserOptions
{
    private protected OptimiserOptions() { }

    /// <summary>Positivity: V &gt;= this after every step (0, REFERENCE 5.4); null for no constraint.</summary>
    public double? LowerBound { get; init; } = 0;

    /// <summary>Solvent mask applied after every step, before positivity; null for none (the papers).</summary>
    public SphericalSupport? Support { get; init; }

    /// <summary>The projection after every step: <see cref="Support"/>, then <see cref="LowerBound"/>.</summary>
    public DensityConstraint Constraint => new(LowerBound, Support);

    /// <param name="length">parameters (D^3 voxels)</param>
    /// <param name="batchCount">training minibatches n (SAGD's memory size)</param>
    /// <param name="history">SAGD's gradient store; null for an in-memory one; ignored by the others</param>
    public abstract IOptimiser Create(int length, int batchCount, IGradientHistory? history = null);

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first bad member (camelCase).</summary>
    public virtual void Validate()
    {
        if (LowerBound is double lb) SettingCheck.Finite(lb, "lowerBound");
    }

    internal static T Validated<T>(T options) where T : OptimiserOptions
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }

    private protected static void ValidateLineSearch(LineSearchOptions? lineSearch)
    {
        try
        {
            SettingCheck.NotNull(lineSearch, "lineSearch").Validate();
        }
        catch (InvalidSettingException e) when (e.Field != "lineSearch")
        {
            throw e.Within("lineSearch");
        }
    }
}

/// <summary>SAGD settings (see <see cref="SagdOptimiser"/>). The defaults are the paper's.</summary>
public sealed record SagdOptions : OptimiserOptions
{
    /// <summary>eps(tau); the step is eps/L.</summary>
    public Schedule StepScale { get; init; } = PaperSchedules.StepScale;

    public LineSearchOptions LineSearch { get; init; } = LineSearchOptions.Paper;

    /// <summary>The SAG forgetting window W(tau) &gt;= 1 (mu = 1 - 1/W); null for the plain mean over batches seen.</summary>
    public Schedule? ForgettingWindow { get; init; }

    /// <summary>The paper's SAGD: plain SAG mean, eps = max(1/16, 2^(1 - floor(tau/150))), the paper's line search.</summary>
    public static SagdOptions Paper { get; } = new();

    /// <summary>
    /// The reference code's SAGD by iteration: forgetting window 1 + 0.1 tau, tight line searches every 5/3/1
    /// iterations. Its eps follows the count c of w* changes (<see cref="ReferenceSchedules.StepScaleByFrequencyChanges"/>),
    /// which a schedule of tau cannot express in general; this uses the paper's eps.
    /// </summary>
    public static SagdOptions Reference { get; } = new() { ForgettingWindow = ReferenceSchedules.ForgettingWindow, LineSearch = LineSearchOptions.Reference };

    public override IOptimiser Create(int length, int batchCount, IGradientHistory? history = null) => new SagdOptimiser(length, batchCount, this, history);

    public override void Validate()
    {
        base.Validate();
        SettingCheck.NotNull(StepScale, "stepScale");
        ValidateLineSearch(LineSearch);
    }
}

/// <summary>Plain SGD settings.</summary>
public sealed record SgdOptions : OptimiserOptions
{
    public Schedule StepScale { get; init; } = PaperSchedules.StepScale;

    public LineSearchOptions LineSearch { get; init; } = LineSearchOptions.Paper;

    public override IOptimiser Create(int length, int batchCount, IGradientHistory? history = null) => new SgdOptimiser(length, this);

    public override void Validate()
    {
        base.Validate();
        SettingCheck.NotNull(StepScale, "stepScale");
        ValidateLineSearch(LineSearch);
    }
}

/// <summary>Heavy-ball momentum settings (also the base of <see cref="NesterovOptions"/>).</summary>
public record MomentumOptions : OptimiserOptions
{
    /// <summary>
    /// eps(tau); the default is the paper's eps divided by 10, because momentum beta = 0.9 multiplies the effective
    /// step by 1/(1 - beta) = 10.
    /// </summary>
    public Schedule StepScale { get; init; } = DefaultStepScale;

    public LineSearchOptions LineSearch { get; init; } = LineSearchOptions.Paper;

    /// <summary>beta(tau) in [0, 1).</summary>
    public Schedule Momentum { get; init; } = new Schedule.Constant(0.9);

    internal static Schedule DefaultStepScale { get; } = new Schedule.Exponential(initial: 0.2, factor: 0.5, every: 150, stepped: true, floor: 1.0 / 160);

    public override IOptimiser Create(int length, int batchCount, IGradientHistory? history = null) => new MomentumOptimiser(length, this);

    public override void Validate()
    {
        base.Validate();
        SettingCheck.NotNull(StepScale, "stepScale");
        SettingCheck.NotNull(Momentum, "momentum");
        ValidateLineSearch(LineSearch);
    }
}

/// <summary>Nesterov momentum settings (the same members as heavy-ball momentum).</summary>
public sealed record NesterovOptions : MomentumOptions
{
    public override IOptimiser Create(int length, int batchCount, IGradientHistory? history = null) => new NesterovOptimiser(length, this);
}

/// <summary>AdaGrad settings.</summary>
public sealed record AdaGradOptions : OptimiserOptions
{
    /// <summary>eta(tau), density units per step (the normalised step of a voxel is about eta).</summary>
    public required Schedule LearningRate { get; init; }

    /// <summary>delta in sqrt(G) + delta, guarding voxels that have seen no gradient.</summary>
    public double Delta { get; init; } = 1e-8;

    public override IOptimiser Create(int length, int batchCount, IGradientHistory? history = null) => new AdaGradOptimiser(length, this);

    public override void Validate()
    {
        base.Validate();
        SettingCheck.NotNull(LearningRate, "learningRate");
        SettingCheck.Positive(Delta, "delta");
    }
}
