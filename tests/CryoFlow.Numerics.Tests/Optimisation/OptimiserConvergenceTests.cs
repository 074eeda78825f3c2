using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

/// <summary>Every optimiser, driven as the pipeline will drive it, reaches the known minimiser of a convex finite sum under positivity.</summary>
public class OptimiserConvergenceTests
{
    private static readonly QuadraticFiniteSum Problem = new(dimension: 12, batches: 10, rows: 8, lambda: 0.05, seed: 3);

    /// <summary>
    /// Runs <paramref name="iterations"/> steps, one minibatch per step in a fresh random order every epoch, with the
    /// minibatch objective offered for line searches, and checks V &gt;= 0 after every step.
    /// </summary>
    internal static float[] Run(IOptimiser optimiser, QuadraticFiniteSum p, int iterations, int seed = 7, List<StepReport>? reports = null)
    {
        var x = new float[p.Dimension];
        Array.Fill(x, 1f);
        var g = new float[p.Dimension];
        var prior = new float[p.Dimension];
        p.PriorGradient(prior);
        var rng = new Random(seed);
        int[] order = Enumerable.Range(0, p.BatchCount).ToArray();
        for (int tau = 0; tau < iterations; tau++)
        {
            if (tau % p.BatchCount == 0) rng.Shuffle(order);
            int k = order[tau % p.BatchCount];
            p.DataGradient(k, x, g);
            var report = optimiser.Step(new OptimiserContext
            {
                Iteration = tau,
                Batch = k,
                Volume = x,
                DataGradient = g,
                PriorGradient = prior,
                Objective = p.BatchObjective(k, x),
                ObjectiveAt = point => p.BatchObjective(k, point),
            });
            reports?.Add(report);
            for (int j = 0; j < x.Length; j++)
                Assert.True(x[j] >= 0, $"V[{j}] = {x[j]} < 0 after step {tau}");
        }
        return x;
    }

    [Fact]
    public void TheToyProblemHasActiveConstraintsAtItsMinimiser()
    {
        Assert.InRange(Problem.ActiveConstraints, 1, Problem.Dimension - 1);
        Assert.True(Problem.Minimiser.Max() > 0.5);
    }

    [Fact]
    public void SagdWithThePaperDefaultsConvergesToTheMinimiser()
    {
        var x = Run(SagdOptions.Paper.Create(Problem.Dimension, Problem.BatchCount), Problem, 3000);
        Assert.True(Problem.DistanceToMinimiser(x) < 1e-5, $"|x - x*|_inf = {Problem.DistanceToMinimiser(x)}");
        Assert.True(Problem.FullObjective(x) - Problem.MinimumValue < 1e-9, $"gap {Problem.FullObjective(x) - Problem.MinimumValue}");
        for (int j = 0; j < x.Length; j++)
            if (Problem.Minimiser[j] == 0) Assert.Equal(0f, x[j]);
    }

    [Fact]
    public void SagdWithTheReferenceForgettingFactorSettlesNearTheMinimiser()
    {
        // With forgetting, the stored batches carry slightly unequal weights mu^age: a bias of order n / W(tau) that
        // fades only as the window W = 1 + 0.1 tau grows, so the tolerance is looser than plain SAG's.
        var options = SagdOptions.Reference with { StepScale = new Schedule.Constant(0.5) };
        var x = Run(options.Create(Problem.Dimension, Problem.BatchCount), Problem, 3000);
        Assert.True(Problem.DistanceToMinimiser(x) < 5e-3, $"|x - x*|_inf = {Problem.DistanceToMinimiser(x)}");
    }

    [Fact]
    public void SagdBeatsSgdAtTheSameStepSizes()
    {
        // The point of the SAG memory: with constant steps SGD stalls at a noise floor that SAGD does not have.
        var step = new Schedule.Constant(1.0 / 8);
        var sagd = Run(new SagdOptions { StepScale = step }.Create(Problem.Dimension, Problem.BatchCount), Problem, 2000);
        var sgd = Run(new SgdOptions { StepScale = step }.Create(Problem.Dimension, Problem.BatchCount), Problem, 2000);
        Assert.True(Problem.DistanceToMinimiser(sagd) * 100 < Problem.DistanceToMinimiser(sgd),
            $"SAGD {Problem.DistanceToMinimiser(sagd)}, SGD {Problem.DistanceToMinimiser(sgd)}");
    }

    public static TheoryData<string> StochasticOptimisers() => ["sgd", "momentum", "nesterov", "adagrad"];

    [Theory]
    [MemberData(nameof(StochasticOptimisers))]
    public void StochasticOptimisersWithDecayingStepsApproachTheMinimiser(string name)
    {
        // 1/t-type decays: the noise floor shrinks with the step.
        var decay = new Schedule.Power(initial: 1, exponent: 1, scale: 200);
        OptimiserOptions options = name switch
        {
            "sgd" => new SgdOptions { StepScale = decay },
            "momentum" => new MomentumOptions { StepScale = new Schedule.Power(0.1, 1, 200) },
            "nesterov" => new NesterovOptions { StepScale = new Schedule.Power(0.1, 1, 200) },
            _ => new AdaGradOptions { LearningRate = new Schedule.Constant(0.3) },
        };
        var x = Run(options.Create(Problem.Dimension, Problem.BatchCount), Problem, 4000);
        double scale = Problem.Minimiser.Max();
        Assert.True(Problem.DistanceToMinimiser(x) < 0.01 * scale, $"{name}: |x - x*|_inf = {Problem.DistanceToMinimiser(x)} (|x*|_inf = {scale})");
        Assert.True(Problem.FullObjective(x) - Problem.MinimumValue < 2e-4,
            $"{name}: gap {Problem.FullObjective(x) - Problem.MinimumValue}");
    }

    [Fact]
    public void SagdReportsTheLipschitzEstimateAndSearchesOnThePaperCadence()
    {
        var reports = new List<StepReport>();
        Run(SagdOptions.Paper.Create(Problem.Dimension, Problem.BatchCount), Problem, 100, reports: reports);
        Assert.Equal([0, 20, 40, 60, 80], reports.Where(r => r.Searched).Select(r => r.Iteration));
        Assert.All(reports, r => Assert.Equal(r.StepScale / r.Lipschitz, r.StepSize, 12));
        Assert.All(reports, r => Assert.Equal(2, r.StepScale));
        // Between searches L decays by 2^(-1/150) per iteration.
        Assert.Equal(reports[5].Lipschitz * Math.Pow(2, -1.0 / 150), reports[6].Lipschitz, 12);
    }
}
