using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class DensityPriorTests
{
    private const long TrainingSetSize = 7;

    private static float[] RandomVolume(int d, int seed, double low = 0, double high = 1)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, d * d * d).Select(_ => (float)(low + (high - low) * rng.NextDouble()))];
    }

    public static TheoryData<string, int> Priors() => new()
    {
        { "exponential", 8 },
        { "exponential", 10 },
        { "car", 8 },
        { "car", 10 },
        { "car-markov", 8 },
        { "car-markov", 10 },
    };

    private static IDensityPrior Create(string name, int d) => name switch
    {
        "exponential" => new ExponentialPrior(2.5, TrainingSetSize),
        "car" => new CarPrior(d, 0.3, TrainingSetSize),
        "car-markov" => new CarPrior(d, 0.3, TrainingSetSize, CarForm.MarkovField),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Priors))]
    public void GradientsAgreeWithCentralDifferences(string name, int d)
    {
        var prior = Create(name, d);
        var v = RandomVolume(d, seed: d);
        var gradient = new float[v.Length];
        double value = prior.ValueAndGradient(v, gradient);
        Assert.Equal(prior.Value(v), value, 12);

        // Every voxel at D = 8; a fixed random sample of 150 at D = 10.
        var rng = new Random(1);
        int[] voxels = d == 8 ? [.. Enumerable.Range(0, v.Length)] : [.. Enumerable.Range(0, 150).Select(_ => rng.Next(v.Length))];
        double errorSquared = 0, normSquared = 0, worst = 0, largest = 0;
        foreach (int i in voxels)
        {
            float original = v[i];
            float up = original + 0.05f, down = original - 0.05f;
            v[i] = up;
            double fUp = prior.Value(v);
            v[i] = down;
            double fDown = prior.Value(v);
            v[i] = original;
            double fd = (fUp - fDown) / ((double)up - down);
            errorSquared += (fd - gradient[i]) * (fd - gradient[i]);
            normSquared += (double)gradient[i] * gradient[i];
            worst = Math.Max(worst, Math.Abs(fd - gradient[i]));
            largest = Math.Max(largest, Math.Abs(gradient[i]));
        }
        double relative = Math.Sqrt(errorSquared / normSquared);
        Assert.True(relative < 1e-3, $"relative error {relative}");
        Assert.True(worst < 1e-3 * largest, $"worst voxel error {worst} against largest gradient {largest}");
    }

    [Fact]
    public void ExponentialPriorIsLambdaTimesTotalMassOverTrainingSetSize()
    {
        var prior = new ExponentialPrior(2.5, TrainingSetSize);
        float[] v = [1, 2, 3, 0, -1];
        var g = new float[5];
        Assert.Equal(2.5 * 5 / 7, prior.ValueAndGradient(v, g), 12);
        Assert.All(g, x => Assert.Equal((float)(2.5 / 7), x));
    }

    [Fact]
    public void ReferenceLambdaIsNineTenthsOverTheModelScale() =>
        Assert.Equal(0.9 / 0.04, ExponentialPrior.ReferenceLambda(0.04), 12);

    [Fact]
    public void UniformPriorIsFlat()
    {
        var g = new float[] { 1, 2, 3 };
        Assert.Equal(0, UniformPrior.Instance.ValueAndGradient([5, -1, 2], g));
        Assert.Equal([0, 0, 0], g);
    }

    [Fact]
    public void CarPriorVanishesInsideAConstantRegionAndCostsAtItsEdges()
    {
        // A constant 6^3 block in the middle of a 10^3 box.
        const int d = 10;
        var v = new float[d * d * d];
        for (int z = 2; z < 8; z++)
            for (int y = 2; y < 8; y++)
                for (int x = 2; x < 8; x++) v[(z * d + y) * d + x] = 1;
        var prior = new CarPrior(d, 1, 1);
        var g = new float[v.Length];
        Assert.True(prior.ValueAndGradient(v, g) > 0);
        // Voxel (5,5,5): it, its neighbours and theirs all lie in the block, so every residual it touches is 0.
        Assert.Equal(0, g[(5 * d + 5) * d + 5], 6);
        Assert.NotEqual(0, g[(2 * d + 2) * d + 2]);
        Assert.Equal(0, prior.Value(new float[v.Length]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(9)]
    public void CarValueEqualsTheBruteForceSumOverEachVoxelsTwentySixNeighbours(int d)
    {
        var v = RandomVolume(d, seed: 10 + d, low: -1, high: 2);
        double residuals = 0, markov = 0;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
                for (int x = 0; x < d; x++)
                {
                    double neighbours = 0;
                    for (int dz = -1; dz <= 1; dz++)
                        for (int dy = -1; dy <= 1; dy++)
                            for (int dx = -1; dx <= 1; dx++)
                            {
                                int zz = z + dz, yy = y + dy, xx = x + dx;
                                if ((dx, dy, dz) == (0, 0, 0) || zz < 0 || yy < 0 || xx < 0 || zz >= d || yy >= d || xx >= d) continue;
                                neighbours += v[(zz * d + yy) * d + xx];
                            }
                    double self = v[(z * d + y) * d + x];
                    double r = self - neighbours / 26;
                    residuals += r * r;
                    markov += self * r;
                }
        const double tau = 0.7;
        double expected = residuals / (2 * tau * tau * TrainingSetSize), expectedMarkov = markov / (2 * tau * tau * TrainingSetSize);
        // The prior forms residuals in single precision: agreement to float rounding.
        Assert.Equal(expected, new CarPrior(d, tau, TrainingSetSize).Value(v), 1e-6 * expected);
        Assert.Equal(expectedMarkov, new CarPrior(d, tau, TrainingSetSize, CarForm.MarkovField).Value(v), 1e-6 * Math.Abs(expectedMarkov));
    }

    [Fact]
    public void CarNeighbourMeanTreatsOutsideTheBoxAsZero()
    {
        // A single voxel of 1 at a corner: its 7 in-box neighbours each see it as 1 of 26; the voxel itself has residual 1.
        const int d = 4;
        var v = new float[d * d * d];
        v[0] = 1;
        var prior = new CarPrior(d, 1, 1);
        // Residuals: 1 at the voxel, -1/26 at each of its 7 neighbours inside the box.
        double expected = 0.5 * (1 + 7.0 / (26 * 26));
        Assert.Equal(expected, prior.Value(v), 6);
        // The Markov-field form: 0.5 v.(I - W)v = 0.5.
        Assert.Equal(0.5, new CarPrior(d, 1, 1, CarForm.MarkovField).Value(v), 6);
    }

    [Fact]
    public void PriorsScaleInverselyWithTheTrainingSetSize()
    {
        var v = RandomVolume(8, 3);
        Assert.Equal(new CarPrior(8, 0.3, 1).Value(v) / 1000, new CarPrior(8, 0.3, 1000).Value(v), 12);
        Assert.Equal(new ExponentialPrior(1, 1).Value(v) / 1000, new ExponentialPrior(1, 1000).Value(v), 12);
    }

    [Fact]
    public void OptionsBuildThePriorWithExplicitOrModelRelativeScales()
    {
        var exp = Assert.IsType<ExponentialPrior>(new ExponentialPriorOptions().Create(8, 100, modelScale: 0.5));
        Assert.Equal(1.8, exp.Lambda, 12);
        Assert.Equal(3, Assert.IsType<ExponentialPrior>(new ExponentialPriorOptions { Lambda = 3 }.Create(8, 100)).Lambda);
        Assert.Throws<ArgumentException>(() => new ExponentialPriorOptions().Create(8, 100));
        var car = Assert.IsType<CarPrior>(new CarPriorOptions().Create(8, 100, modelScale: 0.01));
        Assert.Equal(0.75, car.Tau, 12);
        Assert.Same(UniformPrior.Instance, new UniformPriorOptions().Create(8, 100));
        Assert.Equal("lambda", Assert.Throws<InvalidSettingException>(() => new ExponentialPriorOptions { Lambda = -1 }.Validate()).Field);
    }

    [Fact]
    public void MismatchedVolumesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new CarPrior(4, 1, 1).Value(new float[63]));
        Assert.Throws<ArgumentException>(() => new ExponentialPrior(1, 1).ValueAndGradient(new float[3], new float[2]));
    }
}
