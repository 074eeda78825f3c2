using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class SagdOptimiserTests
{
    // No objective is offered, so L stays at its initial value: L = 2 and eps = 0.5 give a step of 0.25.
    private static SagdOptions Fixed(double? lowerBound = 0, Schedule? window = null) => new()
    {
        StepScale = new Schedule.Constant(0.5),
        LineSearch = new LineSearchOptions { InitialLipschitz = 2 },
        LowerBound = lowerBound,
        ForgettingWindow = window,
    };

    private static StepReport Step(IOptimiser o, int tau, int batch, float[] v, float[] g, float[]? prior = null) =>
        o.Step(new OptimiserContext { Iteration = tau, Batch = batch, Volume = v, DataGradient = g, PriorGradient = prior });

    private static float[] Expected(float[] v, double step, Func<int, double> direction) =>
        [.. v.Select((x, i) => (float)(x - step * direction(i)))];

    [Fact]
    public void StepsAlongTheMeanOfTheLatestGradientOfEveryBatchSeenPlusThePriorGradient()
    {
        var o = new SagdOptimiser(3, 3, Fixed());
        float[] v = [10, 10, 10], prior = [0.1f, 0.2f, 0.3f];
        float[] g0 = [1, 2, 3], g1 = [-1, 0, 5], g0b = [4, 4, 4];

        var expected = Expected(v, 0.25, i => g0[i] + prior[i]);
        var report = Step(o, 0, 0, v, g0, prior);
        Assert.Equal(expected, v);
        Assert.Equal(0.25, report.StepSize);

        expected = Expected(v, 0.25, i => (g0[i] + g1[i]) / 2.0 + prior[i]);
        Step(o, 1, 1, v, g1, prior);
        Assert.Equal(expected, v, new Tolerance(1e-6f));

        // Batch 0 again: its old gradient leaves the average, the new one enters; the count of batches stays 2.
        expected = Expected(v, 0.25, i => (g0b[i] + g1[i]) / 2.0 + prior[i]);
        Step(o, 2, 0, v, g0b, prior);
        Assert.Equal(expected, v, new Tolerance(1e-6f));
        Assert.Equal(2, o.TotalWeight);
        Assert.Equal([3, 4, 9], o.History.Sum.ToArray());
    }

    [Fact]
    public void TheForgettingFactorScalesOlderGradientsBeforeTheNewOneIsAdded()
    {
        // W = 2: mu = 1/2 at every step.
        var o = new SagdOptimiser(2, 3, Fixed(window: new Schedule.Constant(2)));
        Assert.Equal(0.5, o.ForgettingFactor(0));
        float[] v = [10, 10], g0 = [1, 2], g1 = [4, -2], g0b = [3, 3];

        var expected = Expected(v, 0.25, i => g0[i]);
        Step(o, 0, 0, v, g0);
        Assert.Equal(expected, v, new Tolerance(1e-6f));

        expected = Expected(v, 0.25, i => (0.5 * g0[i] + g1[i]) / 1.5);
        Step(o, 1, 1, v, g1);
        Assert.Equal(expected, v, new Tolerance(1e-6f));

        // Replacing batch 0 removes 0.5 g0, halves what is left (g1 -> 0.5 g1), then adds g0b with weight 1.
        expected = Expected(v, 0.25, i => (g0b[i] + 0.5 * g1[i]) / 1.5);
        Step(o, 2, 0, v, g0b);
        Assert.Equal(expected, v, new Tolerance(1e-6f));
        Assert.Equal([1, 0.5, 0], o.History.Weights.ToArray());
    }

    [Fact]
    public void WithoutAForgettingWindowTheFactorIsOne() =>
        Assert.Equal(1, new SagdOptimiser(1, 1, Fixed()).ForgettingFactor(1000));

    [Fact]
    public void TheReferenceForgettingFactorIsOneMinusOneOverOnePlusATenthOfTau()
    {
        var o = new SagdOptimiser(1, 1, SagdOptions.Reference);
        foreach (int tau in new[] { 0, 1, 10, 100, 5000 })
            Assert.Equal(1 - 1 / (1 + 0.1 * tau), o.ForgettingFactor(tau), 12);
    }

    [Fact]
    public void TheDensityIsClampedAtTheLowerBoundAfterTheStep()
    {
        float[] v = [0.1f, 5], g = [4, -4];
        Step(new SagdOptimiser(2, 1, Fixed()), 0, 0, v, g);
        Assert.Equal([0, 6], v);
        float[] free = [0.1f, 5];
        Step(new SagdOptimiser(2, 1, Fixed(lowerBound: null)), 0, 0, free, g);
        Assert.Equal([-0.9f, 6], free);
        float[] raised = [0.1f, 5];
        Step(new SagdOptimiser(2, 1, Fixed(lowerBound: 0.5)), 0, 0, raised, g);
        Assert.Equal([0.5f, 6], raised);
    }

    [Fact]
    public void EveryStepReadsAndWritesTheCurrentBatchThroughTheHistoryInterface()
    {
        var history = new RecordingHistory(new InMemoryGradientHistory(4, 2));
        var o = new SagdOptimiser(2, 4, Fixed(), history);
        float[] v = [10, 10];
        Step(o, 0, 2, v, [1, 1]);
        Step(o, 1, 3, v, [1, 1]);
        Step(o, 2, 2, v, [2, 2]);
        Assert.Equal(["read 2 (none)", "write 2", "read 3 (none)", "write 3", "read 2", "write 2"], history.Log);
    }

    [Fact]
    public void ResetMemoryForgetsEveryBatch()
    {
        var o = new SagdOptimiser(2, 2, Fixed());
        float[] v = [10, 10];
        Step(o, 0, 0, v, [1, 1]);
        Step(o, 1, 1, v, [3, 3]);
        o.ResetMemory();
        Assert.Equal(0, o.TotalWeight);
        Assert.False(o.History.Contains(0));
        var expected = Expected(v, 0.25, _ => 5);
        Step(o, 2, 1, v, [5, 5]);
        Assert.Equal(expected, v);
    }

    [Fact]
    public void ABadBatchIdIsRefusedBeforeAnythingChanges()
    {
        var o = new SagdOptimiser(2, 2, Fixed());
        float[] v = [1, 1];
        Assert.Throws<ArgumentOutOfRangeException>(() => Step(o, 0, 2, v, [1, 1]));
        Assert.Equal([1, 1], v);
        Assert.Null(o.Lipschitz.LastUpdate);
    }

    [Fact]
    public void MismatchedLengthsAreRefused()
    {
        var o = new SagdOptimiser(2, 2, Fixed());
        Assert.Throws<ArgumentException>(() => Step(o, 0, 0, [1, 1, 1], [1, 1, 1]));
        Assert.Throws<ArgumentException>(() => Step(o, 0, 0, [1, 1], [1]));
        Assert.Throws<ArgumentException>(() => Step(o, 0, 0, [1, 1], [1, 1], [1]));
        Assert.Throws<ArgumentException>(() => new SagdOptimiser(2, 2, Fixed(), new InMemoryGradientHistory(2, 3)));
        Assert.Throws<ArgumentException>(() => new SagdOptimiser(2, 2, Fixed(), new InMemoryGradientHistory(3, 2)));
    }

    /// <summary>A history that keeps each gradient rounded to a multiple of 0.5, as a band-limited store keeps only part of it.</summary>
    private sealed class RoundingHistory(int batches, int length) : IGradientHistory
    {
        private readonly InMemoryGradientHistory _inner = new(batches, length);
        public int BatchCount => _inner.BatchCount;
        public int Length => _inner.Length;
        public Span<float> Sum => _inner.Sum;
        public Span<double> Weights => _inner.Weights;
        public bool Contains(int batch) => _inner.Contains(batch);
        public void Clear() => _inner.Clear();
        public bool TryRead(int batch, Span<float> destination) => _inner.TryRead(batch, destination);
        public void Write(int batch, ReadOnlySpan<float> gradient) => throw new InvalidOperationException("SAGD writes with the band");

        public void Write(int batch, Span<float> gradient, double bandRadius)
        {
            for (int i = 0; i < gradient.Length; i++) gradient[i] = MathF.Round(2 * gradient[i]) / 2;
            _inner.Write(batch, gradient);
        }
    }

    [Fact]
    public void TheRunningSumHoldsWhatAnApproximatingHistoryStoresSoReplacingABatchLeavesNoResidue()
    {
        var history = new RoundingHistory(2, 2);
        var o = new SagdOptimiser(2, 2, Fixed(lowerBound: null), history);
        float[] v = [0, 0];
        Step(o, 0, 0, v, [1.3f, -0.2f]);
        Step(o, 1, 1, v, [0.6f, 2.2f]);
        Assert.Equal([2.0f, 2.0f], o.History.Sum.ToArray()); // stored [1.5, 0] + [0.5, 2]
        Step(o, 2, 0, v, [0.1f, 0.1f]);
        Assert.Equal([0.5f, 2.0f], o.History.Sum.ToArray()); // batch 0's stored [1.5, 0] out exactly, [0, 0] in
    }

    [Fact]
    public void TheStepMultiplierScalesTheStepAndMustBePositive()
    {
        var o = new SagdOptimiser(1, 1, Fixed());
        o.StepMultiplier = 0.5;
        float[] v = [10];
        var report = Step(o, 0, 0, v, [4]);
        Assert.Equal(0.125, report.StepSize);
        Assert.Equal([9.5f], v);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.StepMultiplier = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.StepMultiplier = double.NaN);
        var adagrad = new AdaGradOptimiser(1, new AdaGradOptions { LearningRate = new Schedule.Constant(1), LowerBound = null });
        adagrad.StepMultiplier = 0.25;
        float[] w = [0];
        adagrad.Step(new OptimiserContext { Iteration = 0, Batch = 0, Volume = w, DataGradient = new float[] { 3 } });
        Assert.Equal(-0.25f, w[0], 5);
    }

    [Fact]
    public void AWindowBelowOneIsAnError()
    {
        var o = new SagdOptimiser(1, 1, Fixed(window: new Schedule.Constant(0.5)));
        Assert.Throws<InvalidOperationException>(() => Step(o, 0, 0, [1], [1]));
    }

    private sealed class Tolerance(float eps) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= eps * Math.Max(1, Math.Abs(a));
        public int GetHashCode(float x) => 0;
    }

    private sealed class RecordingHistory(IGradientHistory inner) : IGradientHistory
    {
        public List<string> Log { get; } = [];
        public int BatchCount => inner.BatchCount;
        public int Length => inner.Length;
        public Span<float> Sum => inner.Sum;
        public Span<double> Weights => inner.Weights;
        public bool Contains(int batch) => inner.Contains(batch);
        public void Clear() => inner.Clear();

        public bool TryRead(int batch, Span<float> destination)
        {
            bool found = inner.TryRead(batch, destination);
            Log.Add(found ? $"read {batch}" : $"read {batch} (none)");
            return found;
        }

        public void Write(int batch, ReadOnlySpan<float> gradient)
        {
            Log.Add($"write {batch}");
            inner.Write(batch, gradient);
        }
    }

    /// <summary>A random real D^3 volume whose spectrum is zero beyond <paramref name="band"/> (Fourier px).</summary>
    private static float[] BandLimited(int d, double band, int seed)
    {
        var fft = CryoFlow.Numerics.Fourier.FftBackends.Managed.Plan3D(d);
        var rng = new Random(seed);
        var spectrum = new float[fft.ComplexLength];
        int h = d / 2 + 1;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
                for (int x = 0; x < h; x++)
                {
                    int kz = z < d / 2 ? z : z - d, ky = y < d / 2 ? y : y - d;
                    if (Math.Sqrt(x * x + ky * ky + kz * kz) > band) continue;
                    int i = 2 * ((z * d + y) * h + x);
                    spectrum[i] = (float)(rng.NextDouble() - 0.5);
                    spectrum[i + 1] = (float)(rng.NextDouble() - 0.5);
                }
        var real = new float[d * d * d];
        fft.Inverse(spectrum, real);
        return real;
    }

    [Fact]
    public void AfterTheBandGrowsEachShellIsAveragedOverTheBatchesWhoseBandCoversIt()
    {
        const int d = 8;
        var fft = CryoFlow.Numerics.Fourier.FftBackends.Managed.Plan3D(d);
        var o = new SagdOptimiser(d * d * d, 3, Fixed(lowerBound: null));
        var v = new float[d * d * d];
        float[] g0 = BandLimited(d, 2, 1), g1 = BandLimited(d, 3.5, 2);
        o.Step(new OptimiserContext { Iteration = 0, Batch = 0, Volume = v, DataGradient = g0, BandRadius = 2 });
        var before = v.ToArray();
        o.Step(new OptimiserContext { Iteration = 1, Batch = 1, Volume = v, DataGradient = g1, BandRadius = 3.5 });

        // the step's direction, shell by shell: (g0 + g1)/2 inside radius 2, g1 alone between 2 and 3.5
        var moved = new float[v.Length];
        for (int i = 0; i < v.Length; i++) moved[i] = (before[i] - v[i]) / 0.25f;
        float[] fm = new float[fft.ComplexLength], f0 = new float[fft.ComplexLength], f1 = new float[fft.ComplexLength];
        fft.Forward(moved, fm);
        fft.Forward(g0, f0);
        fft.Forward(g1, f1);
        int h = d / 2 + 1, inner = 0, outer = 0;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
                for (int x = 0; x < h; x++)
                {
                    int kz = z < d / 2 ? z : z - d, ky = y < d / 2 ? y : y - d;
                    double r = Math.Sqrt(x * x + ky * ky + kz * kz);
                    int i = 2 * ((z * d + y) * h + x);
                    for (int c = 0; c < 2; c++)
                    {
                        double expected = r <= 2 ? (f0[i + c] + f1[i + c]) / 2 : f1[i + c];
                        Assert.True(Math.Abs(fm[i + c] - expected) < 1e-4, $"k = ({x}, {ky}, {kz}): moved {fm[i + c]}, expected {expected}");
                    }
                    if (r <= 2) inner++;
                    else if (r <= 3.5) outer++;
                }
        Assert.True(inner > 10 && outer > 10);
        Assert.Equal([2, 3.5, 0], o.Bands.ToArray());
        // the plain mean would have halved the outer shells: check the test can tell the two apart
        Assert.NotEqual(0, f1.Where((_, i) => i % 2 == 0).Sum(Math.Abs));
    }
}
