using CryoFlow.Numerics.Evaluation;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Projection;
using CryoFlow.Numerics.Resampling;
using CryoFlow.Numerics.Tests.Projection;

namespace CryoFlow.Numerics.Tests.Evaluation;

public class MapTransformTests
{
    private const int D = 32;

    /// <summary>The hand volume Fourier-cropped to 32^3: band-limited, no Nyquist content.</summary>
    internal static float[] Hand32() => FourierResampler.ResampleVolume(TestVolumes.LoadHandVolume(), TestVolumes.HandSize, D);

    private static double MaxAbs(ReadOnlySpan<float> v)
    {
        double m = 0;
        foreach (float x in v) m = Math.Max(m, Math.Abs(x));
        return m;
    }

    private static double MaxDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    [Fact]
    public void IdentityReproducesTheMap()
    {
        var map = Hand32();
        var moved = MapTransform.Apply(map, D, Rotation3.Identity, MapHand.Original, Shift3.Zero);
        Assert.True(MaxDifference(map, moved) < 1e-5 * MaxAbs(map));
    }

    [Fact]
    public void WholeVoxelShiftMovesContentByTheShift()
    {
        // out(x) = b(x - t): a feature at p lands at p + t (circularly)
        var map = Hand32();
        var moved = MapTransform.Apply(map, D, Rotation3.Identity, MapHand.Original, new Shift3(2, -3, 5));
        var expected = new float[map.Length];
        for (int z = 0; z < D; z++)
            for (int y = 0; y < D; y++)
                for (int x = 0; x < D; x++)
                    expected[(((z + 5) % D) * D + (y - 3 + D) % D) * D + (x + 2) % D] = map[(z * D + y) * D + x];
        Assert.True(MaxDifference(expected, moved) < 1e-5 * MaxAbs(map));
    }

    [Fact]
    public void MirrorFlipsZAboutTheCentreVoxel()
    {
        var map = Hand32();
        var moved = MapTransform.Apply(map, D, Rotation3.Identity, MapHand.Mirrored, Shift3.Zero);
        var expected = new float[map.Length];
        for (int z = 0; z < D; z++)
            for (int i = 0; i < D * D; i++)
                expected[z * D * D + i] = map[((D - z) % D) * D * D + i];
        Assert.True(MaxDifference(expected, moved) < 1e-5 * MaxAbs(map));
    }

    [Fact]
    public void QuarterTurnAboutZSendsXToY()
    {
        // R = 90 degrees about z maps (1, 0, 0) to (0, 1, 0): out(x, y) = b(R^T (x - c) + c) = b(c + (y - c), c - (x - c))
        var map = Hand32();
        var r = Rotation3.FromAxisAngle(0, 0, Math.PI / 2);
        var moved = MapTransform.Apply(map, D, r, MapHand.Original, Shift3.Zero);
        int c = D / 2;
        var expected = new float[map.Length];
        for (int z = 0; z < D; z++)
            for (int y = 0; y < D; y++)
                for (int x = 0; x < D; x++)
                {
                    int sx = (c + (y - c) + D) % D, sy = (c - (x - c) + D) % D;
                    expected[(z * D + y) * D + x] = map[(z * D + sy) * D + sx];
                }
        Assert.True(MaxDifference(expected, moved) < 1e-4 * MaxAbs(map));
    }

    [Fact]
    public void GaussianBlobsMoveAsTheAnalyticMotionPredicts()
    {
        // Well-sampled blobs (sigma 1.2-2.5 voxels) rendered at their moved positions are the ground truth.
        var rng = new Random(5);
        var blobs = new List<(double X, double Y, double Z, double Sigma, double Weight)>();
        while (blobs.Count < 20)
        {
            double x = rng.NextDouble() * 2 - 1, y = rng.NextDouble() * 2 - 1, z = rng.NextDouble() * 2 - 1;
            if (x * x + y * y + z * z <= 1) blobs.Add((9 * x, 9 * y, 9 * z, 1.2 + 1.3 * rng.NextDouble(), 0.5 + rng.NextDouble()));
        }
        var r = new EulerAngles(37, 71, -123).ToMatrix();
        var t = new Shift3(2.3, -1.7, 0.6);
        var original = Render(blobs, Rotation3.Identity, false, Shift3.Zero);
        var truth = Render(blobs, r, true, t);
        var moved = MapTransform.Apply(original, D, r, MapHand.Mirrored, t);

        double err = 0, norm = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            err += (moved[i] - truth[i]) * (double)(moved[i] - truth[i]);
            norm += truth[i] * (double)truth[i];
        }
        // measured: relative error 1.0% (trilinear: 5.5%); FSC >= 0.9999 to shell 10, 0.998 at shell 12 (3/4 Nyquist),
        // then falling to 0.58 at Nyquist, where these blobs have almost no power left (1e-3 of their peak)
        Assert.True(Math.Sqrt(err / norm) < 0.02, $"relative error {Math.Sqrt(err / norm)}");
        var fsc = FourierShellCorrelation.Compute(truth, moved, D, 1.0);
        for (int s = 1; s <= 10; s++)
            Assert.True(fsc.Shells[s].Correlation > 0.999, $"shell {s}: {fsc.Shells[s].Correlation}");
        Assert.True(fsc.Shells[12].Correlation > 0.99, $"shell 12: {fsc.Shells[12].Correlation}");
    }

    [Fact]
    public void TrilinearResamplingIsCoarserButKeepsShellCorrelations()
    {
        var map = Hand32();
        var r = new EulerAngles(20, 50, 80).ToMatrix();
        var t = new Shift3(1.5, 0.5, -2);
        var fine = MapTransform.Apply(map, D, r, MapHand.Original, t);
        var coarse = MapTransform.Apply(map, D, r, MapHand.Original, t, new ProjectorOptions(2, false, InterpolationKernel.Linear));
        var fsc = FourierShellCorrelation.Compute(fine, coarse, D, 1.0);
        for (int s = 1; s <= D / 4; s++)
            Assert.True(fsc.Shells[s].Correlation > 0.99, $"shell {s}: {fsc.Shells[s].Correlation}");
    }

    [Fact]
    public void RefusesAMapOfTheWrongSize()
    {
        Assert.Throws<ArgumentException>(() => MapTransform.Apply(new float[10], D, Rotation3.Identity, MapHand.Original, Shift3.Zero));
    }

    private static float[] Render(List<(double X, double Y, double Z, double Sigma, double Weight)> blobs, Rotation3 r, bool mirror, Shift3 t)
    {
        var v = new float[D * D * D];
        double c = D / 2;
        foreach (var b in blobs)
        {
            var p = r.Apply(b.X, b.Y, mirror ? -b.Z : b.Z);
            double px = p.X + c + t.X, py = p.Y + c + t.Y, pz = p.Z + c + t.Z, s2 = 2 * b.Sigma * b.Sigma;
            for (int z = 0; z < D; z++)
                for (int y = 0; y < D; y++)
                    for (int x = 0; x < D; x++)
                    {
                        double d2 = (x - px) * (x - px) + (y - py) * (y - py) + (z - pz) * (z - pz);
                        v[(z * D + y) * D + x] += (float)(b.Weight * Math.Exp(-d2 / s2));
                    }
        }
        return v;
    }
}
