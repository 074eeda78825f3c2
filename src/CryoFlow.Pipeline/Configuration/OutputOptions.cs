namespace CryoFlow.Pipeline.Configuration;

/// <summary>What a run writes and how often (DESIGN 8, REFERENCE 5.9).</summary>
public sealed record OutputOptions : IConfigSection
{
    /// <summary>Write the current map every this many iterations (REFERENCE 5.9: 10); 0: only at the end.</summary>
    public int MapEvery { get; init; } = 10;

    public CheckpointOptions Checkpoint { get; init; } = new();

    void IConfigSection.Validate(ConfigChecks check) => check.AtLeast(nameof(MapEvery), MapEvery, 0);
}

/// <summary>Checkpoints: whichever of the two cadences comes first; the newest Keep are kept.</summary>
public sealed record CheckpointOptions : IConfigSection
{
    /// <summary>REFERENCE 5.9: 100; 0: no iteration cadence.</summary>
    public int EveryIterations { get; init; } = 100;

    /// <summary>Wall-clock cadence, minutes (bounds the work a crash can lose, DESIGN 8); 0: none.</summary>
    public double EveryMinutes { get; init; } = 30;

    /// <summary>Checkpoints kept on disk (older ones are deleted once a newer one is complete).</summary>
    public int Keep { get; init; } = 3;

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.AtLeast(nameof(EveryIterations), EveryIterations, 0);
        check.AtLeast(nameof(EveryMinutes), EveryMinutes, 0.0);
        check.AtLeast(nameof(Keep), Keep, 1);
    }
}
