namespace CryoFlow.Pipeline.Configuration;

/// <summary>Held-out test-set evaluation (DESIGN 7, REFERENCE 5.6, 6).</summary>
public sealed record EvaluationOptions : IConfigSection
{
    /// <summary>Evaluate the test set when iteration % TestEvery == 0 (REFERENCE 5.6: 10); 0: only at the start and on w* changes.</summary>
    public int TestEvery { get; init; } = 10;

    /// <summary>Also evaluate it whenever w* changes (REFERENCE 5.6).</summary>
    public bool TestOnResolutionChange { get; init; } = true;

    void IConfigSection.Validate(ConfigChecks check) => check.AtLeast(nameof(TestEvery), TestEvery, 0);
}
