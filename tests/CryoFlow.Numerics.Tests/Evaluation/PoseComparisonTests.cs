using CryoFlow.Numerics.Evaluation;
using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Numerics.Tests.Evaluation;

public class PoseComparisonTests
{
    private static readonly Rotation3 J = new(1, 0, 0, 0, 1, 0, 0, 0, -1);

    private static Rotation3[] RandomRotations(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => MapAlignmentTests.RandomRotation(rng)).ToArray();
    }

    /// <summary>A turn by <paramref name="degrees"/> about a random axis.</summary>
    private static Rotation3 Turn(Random rng, double degrees)
    {
        var r = MapAlignmentTests.RandomRotation(rng);
        var (x, y, z) = r.Apply(1, 0, 0);
        double a = degrees * Math.PI / 180;
        return Rotation3.FromAxisAngle(a * x, a * y, a * z);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void RecoversAGlobalMotionAndMeasuresTheNoiseOnTop(bool mirrored, bool left)
    {
        var truth = RandomRotations(400, 1);
        var g = MapAlignmentTests.RandomRotation(new Random(2));
        var rng = new Random(3);
        var estimate = truth.Select((t, i) =>
        {
            var m = mirrored ? J * t * J : t;
            var moved = left ? g * m : m * g;
            // every fifth particle lost (a random pose), the rest off by exactly 3 degrees
            return i % 5 == 0 ? MapAlignmentTests.RandomRotation(rng) : Turn(rng, 3) * moved;
        }).ToArray();

        var a = PoseComparison.Compare(truth, estimate);
        Assert.Equal(mirrored, a.Mirrored);
        Assert.Equal(400, a.Count);
        // the noise sits on the left of the moved rotation; for the left side it is inside the fitted relative
        // rotation's frame, so each error is 3 degrees either way, up to the fit's own error
        Assert.InRange(a.Percentile(50), 2.5, 3.5);
        Assert.InRange(a.FractionWithin(5), 0.78, 0.82);
        Assert.Equal(left, a.LeftSide);
    }

    [Fact]
    public void UnrelatedPosesHaveLargeErrors()
    {
        var a = PoseComparison.Compare(RandomRotations(300, 4), RandomRotations(300, 5));
        // a uniform relative rotation has median angle about 126 degrees; the best of many fits still leaves most far off
        Assert.True(a.Percentile(50) > 60, $"median {a.Percentile(50)}");
        Assert.True(a.FractionWithin(10) < 0.1, $"{a.FractionWithin(10)}");
    }

    [Fact]
    public void NearestRotationUndoesScalingAndNoise()
    {
        var r = MapAlignmentTests.RandomRotation(new Random(6));
        var m = new double[9];
        for (int k = 0; k < 9; k++) m[k] = 7 * r[k / 3, k % 3] + (k == 4 ? 0.01 : 0);
        Assert.True(PoseComparison.NearestRotation(m).MaxAbsDifference(r) < 2e-3);
    }
}
