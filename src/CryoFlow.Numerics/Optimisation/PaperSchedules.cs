namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// The schedules of the TPAMI paper (DESIGN 5), as functions of the iteration tau (one minibatch per iteration).
/// These are CryoFlow's defaults.
/// </summary>
public static class PaperSchedules
{
    /// <summary>w*(tau) = min(0.11, 0.02 + 0.005 floor(tau/150)), 1/Å.</summary>
    public static Schedule MaxFrequency { get; } = new Schedule.Staircase(start: 0.02, step: 0.005, every: 150, limit: 0.11);

    /// <summary>eps(tau) = max(1/16, 2^(1 - floor(tau/150))): 2 for the first 150 iterations, halved every 150, floor 1/16.</summary>
    public static Schedule StepScale { get; } = new Schedule.Exponential(initial: 2, factor: 0.5, every: 150, stepped: true, floor: 1.0 / 16);

    /// <summary>Iterations between Lipschitz line searches: 20 (searches also run at every change of w*).</summary>
    public static Schedule LineSearchInterval { get; } = new Schedule.Constant(20);

    /// <summary>Factor applied to L at every iteration without a line search: 2^(-1/150).</summary>
    public static double LipschitzDecayPerIteration { get; } = Math.Pow(2, -1.0 / 150);
}

/// <summary>
/// The schedules of the authors' reference code (REFERENCE 2.5, 5.2, 5.3), for comparison runs. They are the
/// reference's formulas in its own counter, which starts at 1: a caller counting tau from 0 evaluates them at
/// <c>tau + 1</c> to reproduce the reference's switch points exactly.
/// </summary>
public static class ReferenceSchedules
{
    /// <summary>
    /// w* by iteration: 0.02 for B iterations, 0.025 for the next B, then 0.03 + 0.005 floor((tau - 2B)/150), capped at
    /// 0.15 1/Å, with B = max(150, 50 ceil(batches/50)).
    /// </summary>
    /// <param name="batchCount">number of training minibatches</param>
    public static Schedule MaxFrequency(int batchCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchCount, 1);
        int b = Math.Max(150, 50 * ((batchCount + 49) / 50));
        return new Schedule.Phases([
            new Phase(0, new Schedule.Constant(0.02)),
            new Phase(b, new Schedule.Constant(0.025)),
            new Phase(2 * b, new Schedule.Staircase(start: 0.03, step: 0.005, every: 150, limit: 0.15), Restart: true),
        ]);
    }

    /// <summary>eps = 1 / min(16, 2^c) as a function of c, the number of changes of w* so far (not of the iteration).</summary>
    public static Schedule StepScaleByFrequencyChanges { get; } = new Schedule.Exponential(initial: 1, factor: 0.5, stepped: true, floor: 1.0 / 16);

    /// <summary>Line search every 5 iterations before 2500, every 3 before 5000, then every iteration.</summary>
    public static Schedule LineSearchInterval { get; } = new Schedule.Piecewise([new(0, 5), new(2500, 3), new(5000, 1)]);

    /// <summary>
    /// The SAG forgetting window W(tau) = 1 + 0.1 tau, i.e. the forgetting factor mu = 1 - 1/W = 1 - 1/(1 + 0.1 tau):
    /// about W minibatches carry weight in the average.
    /// </summary>
    public static Schedule ForgettingWindow { get; } = new Schedule.Staircase(start: 1, step: 0.1, every: 1);
}
