namespace CryoFlow.Pipeline.Configuration;

/// <summary>Run control (DESIGN 8, REFERENCE 5.6).</summary>
public sealed record RunOptions : IConfigSection
{
    /// <summary>Seeds the start density, the train/test split, the minibatches and every particle's sampling (DESIGN 8).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Worker threads; 0: one per core. Results are reproducible for a given seed and thread count.</summary>
    public int Threads { get; init; }

    /// <summary>Iteration limit (REFERENCE 5.6: 10000; the papers run about 5000).</summary>
    public int MaxIterations { get; init; } = 10000;

    /// <summary>Wall-clock limit, minutes; null: none. The run checkpoints and stops cleanly when it is reached.</summary>
    public double? TimeLimitMinutes { get; init; }

    /// <summary>Seeds the random start density only; null: <see cref="Seed"/>. Starts of the same seed share the
    /// train/test split, the minibatches and the sampling streams, so their held-out NLLs compare like for like.</summary>
    public int? StartSeed { get; init; }

    /// <summary>
    /// Random starts raced before the run goes on (cryoSPARC's ab-initio draws several too): each runs
    /// <see cref="StartIterations"/> iterations in RUN/starts/start-K from its own random density, and the run continues
    /// the one whose held-out NLL is lowest. 1: a single start, as the paper.
    /// </summary>
    public int Starts { get; init; } = 1;

    /// <summary>Iterations each start runs before they are compared (when <see cref="Starts"/> &gt; 1).</summary>
    public int StartIterations { get; init; } = 300;

    /// <summary>The start seed of start <paramref name="index"/> (0-based) of a race: the run's start seed for the first, so a
    /// race of one is the plain run.</summary>
    public int StartSeedOf(int index) => index == 0 ? StartSeed ?? Seed : unchecked((StartSeed ?? Seed) + 7919 * index);

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.AtLeast(nameof(Threads), Threads, 0);
        check.AtLeast(nameof(MaxIterations), MaxIterations, 1);
        check.Positive(nameof(TimeLimitMinutes), TimeLimitMinutes);
        check.AtLeast(nameof(Starts), Starts, 1);
        check.AtLeast(nameof(StartIterations), StartIterations, 1);
        if (Starts > 1 && StartIterations >= MaxIterations)
            check.Fail(nameof(StartIterations), $"the starts are compared after {StartIterations} iterations, and the run ends at {MaxIterations} (run.maxIterations): nothing would continue the best");
    }
}
