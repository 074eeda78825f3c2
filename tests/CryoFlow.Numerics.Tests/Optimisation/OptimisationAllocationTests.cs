using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

/// <summary>Per-iteration work allocates nothing once buffers exist (the in-memory history allocates a batch's slot on its first write).</summary>
public class OptimisationAllocationTests
{
    private static long Allocated(Action a)
    {
        a();
        long before = GC.GetAllocatedBytesForCurrentThread();
        a();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    public static TheoryData<string> Kinds() => ["sagd", "sagd-reference", "sgd", "momentum", "nesterov", "adagrad"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void OptimiserStepsWithLineSearchesDoNotAllocate(string kind)
    {
        const int n = 4096, batches = 3;
        OptimiserOptions options = kind switch
        {
            "sagd" => SagdOptions.Paper,
            "sagd-reference" => SagdOptions.Reference,
            "sgd" => new SgdOptions(),
            "momentum" => new MomentumOptions(),
            "nesterov" => new NesterovOptions(),
            _ => new AdaGradOptions { LearningRate = new Schedule.Constant(0.01) },
        };
        var optimiser = options.Create(n, batches);
        var v = new float[n];
        var g = new float[n];
        var prior = new float[n];
        for (int i = 0; i < n; i++) (v[i], g[i], prior[i]) = (1 + i % 7, (i % 5) - 2, 0.01f);
        MinibatchObjective f = x => 0.5 * System.Numerics.Tensors.TensorPrimitives.SumOfSquares(x);
        int tau = 0;
        void Steps()
        {
            for (int k = 0; k < batches; k++, tau++)
                optimiser.Step(new OptimiserContext
                {
                    Iteration = tau,
                    Batch = k,
                    Volume = v,
                    DataGradient = g,
                    PriorGradient = prior,
                    ObjectiveAt = f,
                    MaxFrequencyChanged = true, // a line search at every step
                });
        }
        Assert.Equal(0, Allocated(Steps));
    }

    [Fact]
    public void PriorGradientsDoNotAllocate()
    {
        const int d = 16;
        var v = RandomStart.Create(d, new RandomStartOptions());
        var g = new float[v.Length];
        IDensityPrior[] priors = [new CarPrior(d, 0.5, 10), new CarPrior(d, 0.5, 10, CarForm.MarkovField), new ExponentialPrior(1, 10), UniformPrior.Instance];
        foreach (var prior in priors)
            Assert.Equal(0, Allocated(() => prior.ValueAndGradient(v, g)));
    }
}
