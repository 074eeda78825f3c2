using System.Numerics.Tensors;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// How L, the Lipschitz estimate that sets the step eps/L, is found and maintained (DESIGN 5, REFERENCE 5.3).
/// The defaults are the paper's simple scheme: double L until the sufficient-decrease test passes, search every
/// 20 iterations and whenever w* changes, and shrink L by 2^(-1/150) at every iteration in between.
/// </summary>
public sealed record LineSearchOptions
{
    /// <summary>L before the first search (the reference code starts from 1).</summary>
    public double InitialLipschitz { get; init; } = 1;

    /// <summary>Factor by which a failing L is raised (and, with <see cref="Tighten"/>, a passing one lowered); &gt; 1.</summary>
    public double Growth { get; init; } = 2;

    /// <summary>Factor applied to L at every iteration without a search, in (0, 1]; 1 keeps L (the reference code).</summary>
    public double DecayPerIteration { get; init; } = PaperSchedules.LipschitzDecayPerIteration;

    /// <summary>
    /// Iterations between searches, as a schedule (rounded, at least 1); null: no cadence, L is searched only at the
    /// first update and (with <see cref="OnMaxFrequencyChange"/>) when w* changes.
    /// </summary>
    public Schedule? Interval { get; init; } = PaperSchedules.LineSearchInterval;

    /// <summary>Whether a change of w* forces a search.</summary>
    public bool OnMaxFrequencyChange { get; init; } = true;

    /// <summary>
    /// When the first L tried already passes, keep dividing it by <see cref="Growth"/> while it passes and return the
    /// smallest passing L (a tight estimate, as the reference code seeks). Off in the paper's scheme, which only
    /// raises L and relies on the per-iteration decay to lower it.
    /// </summary>
    public bool Tighten { get; init; }

    /// <summary>
    /// Whether the trial point is projected onto the positivity constraint before it is evaluated. Off by default,
    /// as in the reference code, which evaluates x - g/L unprojected (the likelihood is defined for any density).
    /// When on, the test becomes the projected-gradient one: f(x+) &lt;= f(x) + g.(x+ - x) + (L/2)|x+ - x|^2, which
    /// reduces to the unprojected test when no voxel is clamped.
    /// </summary>
    public bool ProjectTrialPoint { get; init; }

    /// <summary>Cap on objective evaluations per search (the search then returns the last L tried, marked unsatisfied).</summary>
    public int MaxEvaluations { get; init; } = 30;

    /// <summary>The paper's scheme (the default).</summary>
    public static LineSearchOptions Paper { get; } = new();

    /// <summary>
    /// Closest to the reference code: searches every 5/3/1 iterations (<see cref="ReferenceSchedules.LineSearchInterval"/>),
    /// tight L, no decay in between. (The reference brackets L with a polynomial model; this halves and doubles.)
    /// </summary>
    public static LineSearchOptions Reference { get; } = new()
    {
        Interval = ReferenceSchedules.LineSearchInterval,
        DecayPerIteration = 1,
        Tighten = true,
    };

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first bad member.</summary>
    public void Validate()
    {
        SettingCheck.Positive(InitialLipschitz, "initialLipschitz");
        if (!(Growth > 1) || !double.IsFinite(Growth)) throw new InvalidSettingException("growth", $"must be a finite number > 1 (found {Growth})");
        if (!(DecayPerIteration > 0 && DecayPerIteration <= 1)) throw new InvalidSettingException("decayPerIteration", $"must be in (0, 1] (found {DecayPerIteration})");
        SettingCheck.AtLeast(MaxEvaluations, 1, "maxEvaluations");
    }
}

/// <summary>Outcome of one line search.</summary>
/// <param name="Lipschitz">the L found: the first (with tightening: the smallest) L tried that passed; the last one tried when none did</param>
/// <param name="Evaluations">objective evaluations spent, including f(x) when it was not supplied</param>
/// <param name="Satisfied">whether <paramref name="Lipschitz"/> passed the sufficient-decrease test</param>
public readonly record struct LineSearchResult(double Lipschitz, int Evaluations, bool Satisfied);

/// <summary>
/// The sufficient-decrease search for L on the current minibatch objective f with its own gradient g (not the
/// SAG average): L passes when f(x) - f(x - g/L) &gt;= |g|^2 / (2L). For f with an L_f-Lipschitz gradient every
/// L &gt;= L_f passes, so doubling from below stops at most a factor 2 above the smallest passing L.
/// </summary>
public static class LipschitzLineSearch
{
    /// <param name="x">the current point</param>
    /// <param name="fx">f(x); NaN to have it evaluated (one extra evaluation)</param>
    /// <param name="gradient">g = grad f(x)</param>
    /// <param name="initialLipschitz">first L tried</param>
    /// <param name="objective">f</param>
    /// <param name="trial">scratch of the same length, receives the trial points</param>
    /// <param name="constraint">the projection (support, positivity), used only with <see cref="LineSearchOptions.ProjectTrialPoint"/></param>
    public static LineSearchResult Search(
        ReadOnlySpan<float> x, double fx, ReadOnlySpan<float> gradient, double initialLipschitz,
        MinibatchObjective objective, Span<float> trial, LineSearchOptions options, DensityConstraint constraint = default)
    {
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(options);
        if (gradient.Length != x.Length) throw new ArgumentException($"gradient has {gradient.Length} elements, the point {x.Length}", nameof(gradient));
        if (trial.Length != x.Length) throw new ArgumentException($"trial has {trial.Length} elements, the point {x.Length}", nameof(trial));
        if (!(initialLipschitz > 0) || !double.IsFinite(initialLipschitz)) throw new ArgumentOutOfRangeException(nameof(initialLipschitz), initialLipschitz, "L must be positive and finite");

        double g2 = VectorMath.SumOfSquares(gradient);
        if (g2 == 0) return new LineSearchResult(initialLipschitz, 0, true);

        int evaluations = 0;
        if (double.IsNaN(fx))
        {
            fx = objective(x);
            evaluations++;
        }
        double l = initialLipschitz;
        bool passes = Passes(l, x, fx, gradient, g2, objective, trial, options, constraint, ref evaluations);
        if (passes && options.Tighten)
        {
            while (evaluations < options.MaxEvaluations)
            {
                double smaller = l / options.Growth;
                if (!Passes(smaller, x, fx, gradient, g2, objective, trial, options, constraint, ref evaluations)) break;
                l = smaller;
            }
            return new LineSearchResult(l, evaluations, true);
        }
        while (!passes && evaluations < options.MaxEvaluations)
        {
            l *= options.Growth;
            passes = Passes(l, x, fx, gradient, g2, objective, trial, options, constraint, ref evaluations);
        }
        return new LineSearchResult(l, evaluations, passes);
    }

    /// <summary>The sufficient-decrease test at one L (one objective evaluation).</summary>
    private static bool Passes(
        double l, ReadOnlySpan<float> x, double fx, ReadOnlySpan<float> g, double g2, MinibatchObjective objective,
        Span<float> trial, LineSearchOptions options, DensityConstraint constraint, ref int evaluations)
    {
        TensorPrimitives.MultiplyAdd(g, (float)(-1 / l), x, trial);
        bool project = options.ProjectTrialPoint && !constraint.IsNone;
        if (project) constraint.Project(trial);
        double fTrial = objective(trial);
        evaluations++;
        if (!double.IsFinite(fTrial)) return false;
        if (!project) return fx - fTrial >= g2 / (2 * l);
        var (along, squared) = VectorMath.Displacement(x, trial, g);
        return fTrial <= fx + along + 0.5 * l * squared;
    }
}

/// <summary>
/// The L of a run and when it was last searched: searches on the cadence of <see cref="LineSearchOptions"/>
/// and decays in between. The optimisers own one each; the pipeline reads it for telemetry and checkpoints.
/// </summary>
public sealed class LipschitzEstimate
{
    private readonly LineSearchOptions _options;

    public LipschitzEstimate(LineSearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        Value = options.InitialLipschitz;
    }

    /// <summary>Current L.</summary>
    public double Value { get; set; }

    /// <summary>Iteration of the latest search; null before the first.</summary>
    public int? LastSearch { get; set; }

    /// <summary>Iteration of the latest <see cref="Update"/>; null before the first.</summary>
    public int? LastUpdate { get; set; }

    public LineSearchOptions Options => _options;

    /// <summary>Whether <see cref="Update"/> at <paramref name="iteration"/> would search (given an objective).</summary>
    public bool IsSearchDue(int iteration, bool maxFrequencyChanged)
    {
        if (LastSearch is not int last) return true;
        if (maxFrequencyChanged && _options.OnMaxFrequencyChange) return true;
        if (_options.Interval is not Schedule schedule) return false;
        int interval = Math.Max(1, (int)Math.Round(schedule.At(iteration)));
        return iteration - last >= interval;
    }

    /// <summary>
    /// Brings L to <paramref name="iteration"/>: decays it once per iteration since the last update, then searches
    /// from it when a search is due and <paramref name="objective"/> is given. Without an objective L is left alone
    /// (no search can correct a decay, so none is applied).
    /// </summary>
    /// <param name="gradient">the full minibatch gradient at x (data + prior)</param>
    /// <param name="trial">scratch of x's length</param>
    public (bool Searched, LineSearchResult Result) Update(
        int iteration, bool maxFrequencyChanged, ReadOnlySpan<float> x, double fx, ReadOnlySpan<float> gradient,
        MinibatchObjective? objective, Span<float> trial, DensityConstraint constraint)
    {
        if (objective is null) return (false, new LineSearchResult(Value, 0, false));
        if (LastUpdate is int previous && iteration > previous && LastSearch is not null)
            Value *= Math.Pow(_options.DecayPerIteration, iteration - previous);
        LastUpdate = iteration;
        if (!IsSearchDue(iteration, maxFrequencyChanged)) return (false, new LineSearchResult(Value, 0, false));
        var result = LipschitzLineSearch.Search(x, fx, gradient, Value, objective, trial, _options, constraint);
        Value = result.Lipschitz;
        LastSearch = iteration;
        return (true, result);
    }
}
