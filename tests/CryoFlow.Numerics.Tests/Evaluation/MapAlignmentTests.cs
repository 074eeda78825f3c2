using CryoFlow.Numerics.Evaluation;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Resampling;
using CryoFlow.Numerics.Tests.Projection;

namespace CryoFlow.Numerics.Tests.Evaluation;

/// <summary>
/// Alignment of copies of the chiral hand volume (shared/data/volumes/hand-vol.mrc; Fourier-cropped to 32^3 for
/// speed, one test at the full 64^3) that were turned, shifted and possibly mirrored by a known motion.
/// </summary>
public class MapAlignmentTests
{
    private const int D = 32;
    private static readonly Rotation3 Mirror = new(1, 0, 0, 0, 1, 0, 0, 0, -1);
    private static readonly Lazy<float[]> HandLazy = new(MapTransformTests.Hand32);

    private static float[] Hand => HandLazy.Value;

    /// <summary>A rotation uniform over SO(3), from a uniformly random unit quaternion.</summary>
    internal static Rotation3 RandomRotation(Random rng)
    {
        double u1 = rng.NextDouble(), u2 = rng.NextDouble(), u3 = rng.NextDouble();
        double w = Math.Sqrt(1 - u1) * Math.Sin(2 * Math.PI * u2), x = Math.Sqrt(1 - u1) * Math.Cos(2 * Math.PI * u2);
        double y = Math.Sqrt(u1) * Math.Sin(2 * Math.PI * u3), z = Math.Sqrt(u1) * Math.Cos(2 * Math.PI * u3);
        return new Rotation3(
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y));
    }

    /// <summary>
    /// The motion that undoes b = T_t Rot_R [Mirror] a. Original hand: a = T_(-R^T t) Rot_(R^T) b. Mirrored:
    /// Mirror Rot_Q = Rot_(M Q M) Mirror gives a = T_(-M R^T t) Rot_(M R^T M) Mirror b.
    /// </summary>
    private static (Rotation3 Rotation, Shift3 Shift) Inverse(Rotation3 r, MapHand hand, Shift3 t)
    {
        var rt = r.Transpose();
        var q = hand == MapHand.Mirrored ? Mirror * rt : rt;
        var s = q.Apply(-t.X, -t.Y, -t.Z);
        return (hand == MapHand.Mirrored ? Mirror * rt * Mirror : rt, new Shift3(s.X, s.Y, s.Z));
    }

    private static double Distance(Shift3 a, Shift3 b) => new Shift3(a.X - b.X, a.Y - b.Y, a.Z - b.Z).Length;

    private static (float[] Copy, Rotation3 Rotation, Shift3 Shift) MovedCopy(float[] map, int box, int seed, MapHand hand)
    {
        var rng = new Random(seed);
        var r = RandomRotation(rng);
        var t = new Shift3(rng.NextDouble() * 6 - 3, rng.NextDouble() * 6 - 3, rng.NextDouble() * 6 - 3).Scale(box / 32.0);
        return (MapTransform.Apply(map, box, r, hand, t), r, t);
    }

    [Fact]
    public void IdenticalMapsAlignToTheIdentityAndKeepFscOneInEveryShell()
    {
        var result = MapAlignment.Align(Hand, Hand, D, 1.5);
        Assert.Equal(MapHand.Original, result.Hand);
        Assert.Equal(0.0, MapAlignment.AngleBetweenDeg(Rotation3.Identity, result.Rotation), 6);
        Assert.True(result.ShiftVoxels.Length < 1e-4, result.ShiftVoxels.ToString());
        Assert.True(result.ShiftAngst.Length < 1.5e-4, result.ShiftAngst.ToString());
        Assert.Equal(1.0, result.Correlation, 6);
        var fsc = FourierShellCorrelation.Compute(Hand, result.Aligned, D, 1.5);
        Assert.All(fsc.Shells.Skip(1), s => Assert.Equal(1.0, s.Correlation, 5));
        Assert.Equal(3.0, fsc.ResolutionAt(0.5), 9);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RotatedAndShiftedCopyIsAlignedBack(int seed)
    {
        var (copy, r, t) = MovedCopy(Hand, D, seed, MapHand.Original);
        var result = MapAlignment.Align(Hand, copy, D, 2.0);
        var (expected, shift) = Inverse(r, MapHand.Original, t);

        // measured (seeds 1-3): 0.02-0.06 degrees, 0.01-0.02 voxel
        Assert.Equal(MapHand.Original, result.Hand);
        double angle = MapAlignment.AngleBetweenDeg(expected, result.Rotation);
        Assert.True(angle < 1, $"rotation off by {angle} degrees");
        Assert.True(Distance(shift, result.ShiftVoxels) < 0.25, $"shift {result.ShiftVoxels}, expected {shift}");
        Assert.True(Distance(shift.Scale(2.0), result.ShiftAngst) < 0.5, $"shift {result.ShiftAngst} Å");
        Assert.True(result.Rotation.MaxAbsDifference(result.Angles.ToMatrix()) < 1e-9);

        // two resamplings (making the copy, aligning it back) cost a little at the top:
        // measured FSC >= 0.998 to shell 12 (3/4 Nyquist) and 0.94-0.98 at Nyquist
        var fsc = FourierShellCorrelation.Compute(Hand, result.Aligned, D, 2.0);
        for (int s = 1; s <= D / 4; s++) Assert.True(fsc.Shells[s].Correlation > 0.99, $"shell {s}: {fsc.Shells[s].Correlation}");
        for (int s = D / 4 + 1; s <= D / 2; s++) Assert.True(fsc.Shells[s].Correlation > 0.9, $"shell {s}: {fsc.Shells[s].Correlation}");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void MirroredCopyIsAlignedBackAndReportedAsMirrored(int seed)
    {
        var (copy, r, t) = MovedCopy(Hand, D, seed, MapHand.Mirrored);
        var result = MapAlignment.Align(Hand, copy, D, 1.0);
        var (expected, shift) = Inverse(r, MapHand.Mirrored, t);

        Assert.Equal(MapHand.Mirrored, result.Hand);
        double angle = MapAlignment.AngleBetweenDeg(expected, result.Rotation);
        Assert.True(angle < 1, $"rotation off by {angle} degrees");
        Assert.True(Distance(shift, result.ShiftVoxels) < 0.25, $"shift {result.ShiftVoxels}, expected {shift}");
        var fsc = FourierShellCorrelation.Compute(Hand, result.Aligned, D, 1.0);
        for (int s = 1; s <= D / 4; s++) Assert.True(fsc.Shells[s].Correlation > 0.99, $"shell {s}: {fsc.Shells[s].Correlation}");

        // the hand is chiral: the best pose of the wrong hand leaves far more unexplained
        // (measured: 0.9998 for the right hand, 0.971 for the wrong one)
        Assert.True(result.OtherHandCorrelation < result.Correlation - 0.02, $"{result.Correlation} vs {result.OtherHandCorrelation}");
        Assert.True(1 - result.OtherHandCorrelation > 20 * (1 - result.Correlation), $"{result.Correlation} vs {result.OtherHandCorrelation}");
    }

    [Fact]
    public void MirroredCopySearchedWithoutTheMirrorAlignsClearlyWorse()
    {
        var (copy, _, _) = MovedCopy(Hand, D, 6, MapHand.Mirrored);
        var result = MapAlignment.Align(Hand, copy, D, 1.0, new MapAlignmentOptions { TryMirror = false });
        Assert.Equal(MapHand.Original, result.Hand);
        Assert.True(double.IsNaN(result.OtherHandCorrelation));
        // measured: correlation 0.971 and FSC 0.5 at shell 11, where the right hand keeps FSC > 0.98 to Nyquist
        Assert.True(result.Correlation < 0.98, $"correlation {result.Correlation}");
        var fsc = FourierShellCorrelation.Compute(Hand, result.Aligned, D, 1.0);
        Assert.True(fsc.ShellAt(0.5) < 13, $"FSC 0.5 at shell {fsc.ShellAt(0.5)}");
    }

    [Fact]
    public void FullSizeHandIsAlignedBackOverRotationShiftAndMirror()
    {
        const int box = TestVolumes.HandSize;
        var hand = TestVolumes.LoadHandVolume();
        var (copy, r, t) = MovedCopy(hand, box, 7, MapHand.Mirrored);
        var result = MapAlignment.Align(hand, copy, box, 1.0);
        var (expected, shift) = Inverse(r, MapHand.Mirrored, t);

        // measured: 0.002 degrees, 0.005 voxel; correlation 0.9997 against 0.875 for the other hand
        Assert.Equal(MapHand.Mirrored, result.Hand);
        double angle = MapAlignment.AngleBetweenDeg(expected, result.Rotation);
        Assert.True(angle < 0.5, $"rotation off by {angle} degrees");
        Assert.True(Distance(shift, result.ShiftVoxels) < 0.2, $"shift {result.ShiftVoxels}, expected {shift}");
        Assert.True(result.OtherHandCorrelation < result.Correlation - 0.05, $"{result.Correlation} vs {result.OtherHandCorrelation}");
        var fsc = FourierShellCorrelation.Compute(hand, result.Aligned, box, 1.0);
        for (int s = 1; s <= box / 4; s++) Assert.True(fsc.Shells[s].Correlation > 0.99, $"shell {s}: {fsc.Shells[s].Correlation}");
    }

    [Fact]
    public void NoisyLowPassedCopyWithAnOffsetStillFindsHandAndPose()
    {
        // an ab-initio map is blurrier, noisier and on another scale and offset than the reference
        var (moved, r, t) = MovedCopy(Hand, D, 8, MapHand.Mirrored);
        var blurred = FourierResampler.ResampleVolume(FourierResampler.ResampleVolume(moved, D, D / 2), D / 2, D);
        double rms = Math.Sqrt(Hand.Average(v => (double)v * v));
        var rng = new Random(80);
        var copy = new float[blurred.Length];
        for (int i = 0; i < copy.Length; i++)
        {
            double gauss = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            copy[i] = (float)(0.7 * blurred[i] + 0.3 + 0.7 * rms * gauss);
        }
        var result = MapAlignment.Align(Hand, copy, D, 1.0);
        var (expected, shift) = Inverse(r, MapHand.Mirrored, t);

        Assert.Equal(MapHand.Mirrored, result.Hand);
        double angle = MapAlignment.AngleBetweenDeg(expected, result.Rotation);
        Assert.True(angle < 5, $"rotation off by {angle} degrees");
        Assert.True(Distance(shift, result.ShiftVoxels) < 0.5, $"shift {result.ShiftVoxels}, expected {shift}");
    }

    /// <summary>
    /// At low resolution the hand is a dipole, a positive and a negative lobe, nearly symmetric about its axis: turns
    /// about that axis barely change the low shells, and the fine texture alone fixes the pose. Here the copy's
    /// envelope (shells below 8) is made exactly symmetric, the mean of twelve turns about the dipole axis, as an
    /// ab-initio map's can be; its fine shells are the hand's. The plain correlation, which the envelope dominates,
    /// then picks a wrong turn; the whitened search finds the pose, and the FSC information prefers it.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FineDetailDecidesThePoseOfAMapWithASymmetricEnvelope(bool whiten)
    {
        const int box = TestVolumes.HandSize;
        var hand = TestVolumes.LoadHandVolume();
        var envelope = FourierResampler.ResampleVolume(FourierResampler.ResampleVolume(hand, box, box / 4), box / 4, box);
        // the dipole axis: the envelope's first moment about the centre voxel
        double mx = 0, my = 0, mz = 0;
        for (int z = 0; z < box; z++)
            for (int y = 0; y < box; y++)
                for (int x = 0; x < box; x++)
                {
                    double v = envelope[(z * box + y) * box + x];
                    mx += v * (x - box / 2);
                    my += v * (y - box / 2);
                    mz += v * (z - box / 2);
                }
        double norm = Math.Sqrt(mx * mx + my * my + mz * mz);
        const int turns = 12;
        var symmetric = new double[hand.Length];
        for (int k = 0; k < turns; k++)
        {
            double angle = 2 * Math.PI * k / turns;
            var turned = MapTransform.Apply(envelope, box, Rotation3.FromAxisAngle(angle * mx / norm, angle * my / norm, angle * mz / norm), MapHand.Original, Shift3.Zero);
            for (int i = 0; i < symmetric.Length; i++) symmetric[i] += turned[i] / turns;
        }
        var blob = new float[hand.Length];
        for (int i = 0; i < blob.Length; i++) blob[i] = (float)(hand[i] - envelope[i] + symmetric[i]);
        var (copy, r, t) = MovedCopy(blob, box, 11, MapHand.Original);

        var result = MapAlignment.Align(hand, copy, box, 1.0, new MapAlignmentOptions { Whiten = whiten });
        var (expected, _) = Inverse(r, MapHand.Original, t);
        double error = MapAlignment.AngleBetweenDeg(expected, result.Rotation);
        if (whiten)
        {
            Assert.True(result.Whitened);
            Assert.Equal(MapHand.Original, result.Hand);
            Assert.True(error < 2, $"rotation off by {error} degrees");
        }
        else
        {
            Assert.False(result.Whitened);
            Assert.True(error > 10 || result.Hand != MapHand.Original, $"the plain correlation found the pose ({error} degrees)");
        }
    }

    [Fact]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        var (copy, _, _) = MovedCopy(Hand, D, 9, MapHand.Original);
        var options = new MapAlignmentOptions { CandidatesPerHand = 2 };
        var one = MapAlignment.Align(Hand, copy, D, 1.0, options with { MaxDegreeOfParallelism = 1 });
        var many = MapAlignment.Align(Hand, copy, D, 1.0, options with { MaxDegreeOfParallelism = 4 });
        Assert.Equal(one.Rotation, many.Rotation);
        Assert.Equal(one.ShiftVoxels, many.ShiftVoxels);
        Assert.Equal(one.Correlation, many.Correlation);
        Assert.Equal(one.OtherHandCorrelation, many.OtherHandCorrelation);
        Assert.Equal(one.Aligned, many.Aligned);
    }

    [Fact]
    public void GlobalGridContainsTheIdentityAndCoversRotationSpace()
    {
        var grid = MapAlignment.RotationGrid(15);
        Assert.Contains(grid, g => g.MaxAbsDifference(Rotation3.Identity) == 0);
        var rng = new Random(10);
        double worst = 0;
        for (int i = 0; i < 200; i++)
        {
            var r = RandomRotation(rng);
            worst = Math.Max(worst, grid.Min(g => MapAlignment.AngleBetweenDeg(g, r)));
        }
        // half the refinement's first step (7.5 degrees) and the candidates' separation leave room for this
        Assert.True(worst < 12, $"a random rotation is {worst} degrees from the grid");
    }

    [Fact]
    public void RefusesMapsOfDifferentSizesAndAFlatReference()
    {
        Assert.Throws<ArgumentException>(() => MapAlignment.Align(Hand, new float[10], D, 1.0));
        Assert.Throws<ArgumentException>(() => MapAlignment.Align(new float[D * D * D], Hand, D, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MapAlignment.Align(Hand, Hand, D, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MapAlignment.Align(Hand, Hand, D, 1.0, new MapAlignmentOptions { GlobalStepDeg = 0 }));
    }
}
