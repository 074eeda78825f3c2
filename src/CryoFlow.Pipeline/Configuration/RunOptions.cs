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

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.AtLeast(nameof(Threads), Threads, 0);
        check.AtLeast(nameof(MaxIterations), MaxIterations, 1);
        check.Positive(nameof(TimeLimitMinutes), TimeLimitMinutes);
    }
}
