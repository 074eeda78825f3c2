using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Tests.Projection;

public class ImageRotatorTests
{
    private const int D = 64;

    private static readonly Lazy<float[]> HandImage = new(() =>
    {
        // The hand projected along z: a realistic particle image, [y][x].
        var v = TestVolumes.LoadHandVolume();
        var img = new float[D * D];
        for (int z = 0; z < D; z++)
            for (int i = 0; i < D * D; i++) img[i] += v[z * D * D + i];
        return img;
    });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<double, Lazy<float[]>> ExactHand = new();

    private static float[] ExactRotatedHand(FourierDisc disc, double psi) =>
        ExactHand.GetOrAdd(psi, p => new Lazy<float[]>(() => ExactRotated(HandImage.Value, disc, p))).Value;

    /// <summary>I(R2(psi) k) for a real image, by direct summation: D^-1 sum_x f(x) exp(-2 pi i q.(x - D/2)/D).</summary>
    private static float[] ExactRotated(float[] f, FourierDisc disc, double psi)
    {
        int d = disc.BoxSize;
        var result = new float[2 * disc.Count];
        double c = Math.Cos(psi), s = Math.Sin(psi);
        Parallel.For(0, disc.Count, j =>
        {
            double qx = c * disc.Kx[j] + s * disc.Ky[j], qy = -s * disc.Kx[j] + c * disc.Ky[j];
            double re = 0, im = 0;
            for (int y = 0; y < d; y++)
                for (int x = 0; x < d; x++)
                {
                    var (sin, cos) = Math.SinCos(-2 * Math.PI * (qx * (x - d / 2) + qy * (y - d / 2)) / d);
                    re += f[y * d + x] * cos;
                    im += f[y * d + x] * sin;
                }
            result[2 * j] = (float)(re / d);
            result[2 * j + 1] = (float)(im / d);
        });
        return result;
    }

    public static TheoryData<int, bool, InterpolationKernel, double> Settings() => new()
    {
        // bound on the relative error over |k| < 30 for psi = 0.3, 1.1, 2.6 (measured values in comments)
        { 1, false, InterpolationKernel.Linear, 0.05 },   // 0.038-0.039
        { 1, true, InterpolationKernel.Linear, 0.025 },   // 0.019-0.020
        { 2, false, InterpolationKernel.Linear, 0.013 },  // 0.009-0.010
        { 2, true, InterpolationKernel.Linear, 0.005 },   // 0.0038
        { 1, true, InterpolationKernel.Lanczos3, 0.015 }, // 0.011
        { 2, true, InterpolationKernel.Lanczos3, 0.006 }, // 0.0044
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void RotatedTransformMatchesTheExactTransformAtRotatedFrequencies(int oversampling, bool premultiply, InterpolationKernel kernel, double bound)
    {
        var disc = new FourierDisc(D, D / 2 - 2);
        var rot = new ImageRotator(D, new ProjectorOptions(oversampling, premultiply, kernel), FftBackends.Managed);
        var prepared = rot.CreateImage();
        rot.Prepare(HandImage.Value, prepared);
        var rotated = new float[2 * disc.Count];
        var errors = new List<double>();
        foreach (double psi in new[] { 0.3, 1.1, 2.6 })
        {
            rot.Rotate(prepared, disc, psi, rotated);
            errors.Add(ProjectionReferences.RelativeError(rotated, ExactRotatedHand(disc, psi), disc, disc.Count));
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{rot.Options}: {string.Join(" ", errors.Select(e => e.ToString("F4")))}");
        Assert.All(errors, e => Assert.True(e < bound, $"relative error {e:F4} >= {bound}"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ZeroRotationWithoutPremultiplicationReproducesTheTransform(int oversampling)
    {
        var disc = new FourierDisc(D, D / 2);
        var rot = new ImageRotator(D, new ProjectorOptions(oversampling, false), FftBackends.Managed);
        var prepared = rot.CreateImage();
        rot.Prepare(HandImage.Value, prepared);
        var rotated = new float[2 * disc.Count];
        rot.Rotate(prepared, disc, 0, rotated);
        var direct = ProjectionReferences.DiscTransform(HandImage.Value, disc);
        Assert.True(ProjectionReferences.RelativeError(rotated, direct, disc, disc.Count) < 1e-5);
    }

    [Fact]
    public void RotatingThePsiPoseImageByPsiGivesTheSliceOfThePsiZeroPose()
    {
        // Euler(rot, tilt, psi) = Rz(psi) Euler(rot, tilt, 0): the in-plane factorisation the likelihood uses.
        var v = TestVolumes.LoadHandVolume();
        var disc = new FourierDisc(D, D / 2 - 2);
        var pose = new EulerAngles(40, 70, 55);
        var withPsi = ProjectionReferences.ExactSlice(v, disc, pose.ToMatrix());
        var withoutPsi = ProjectionReferences.ExactSlice(v, disc, (pose with { PsiDeg = 0 }).ToMatrix());
        var half = new float[2 * FourierLayout.HalfPlaneLength(D)];
        var image = new float[D * D];
        disc.Scatter(withPsi, half);
        FftBackends.Managed.Plan2D(D).Inverse(half, image);
        var rot = new ImageRotator(D, ProjectorOptions.Default, FftBackends.Managed);
        var prepared = rot.CreateImage();
        rot.Prepare(image, prepared);
        var rotated = new float[2 * disc.Count];
        int inner = disc.CountWithin(D / 2 - 6); // the image is band-limited at 30: stay clear of the cut
        double psi = 55 * Math.PI / 180;
        rot.Rotate(prepared, disc, psi, rotated);
        double err = ProjectionReferences.RelativeError(rotated, withoutPsi, disc, inner);
        Assert.True(err < 0.015, $"relative error {err:F4}");
        rot.Rotate(prepared, disc, -psi, rotated);
        Assert.True(ProjectionReferences.RelativeError(rotated, withoutPsi, disc, inner) > 0.3, "the opposite angle must not match");
    }

    public static TheoryData<int, bool, InterpolationKernel> AllSettings() => VolumeProjectorTests.AllSettings();

    [Theory]
    [MemberData(nameof(AllSettings))]
    public void RotationAdjointIsExactForTheWeightedInnerProducts(int oversampling, bool premultiply, InterpolationKernel kernel)
    {
        const int d = 32;
        var rot = new ImageRotator(d, new ProjectorOptions(oversampling, premultiply, kernel), FftBackends.Managed);
        var disc = new FourierDisc(d, d / 2);
        var rng = new Random(21);
        var x = rot.CreateImage();
        VolumeProjectorTests.RandomFloats(rng, x.Values.Length).CopyTo(x.Values);
        var y = VolumeProjectorTests.RandomFloats(rng, 2 * disc.Count);
        var rx = new float[2 * disc.Count];
        foreach (double psi in new[] { 0.0, 0.4, 2.0, -2.9 })
        {
            var acc = rot.CreateImage();
            rot.Rotate(x, disc, psi, rx);
            rot.RotateAdjointAdd(y, disc, psi, acc);
            double lhs = disc.InnerProduct(rx, y);
            double rhs = FourierLayout.WeightedInnerProduct(x.Values, acc.Values, rot.PaddedSize);
            double scale = Math.Sqrt(disc.InnerProduct(rx, rx) * disc.InnerProduct(y, y));
            Assert.True(Math.Abs(lhs - rhs) <= 1e-5 * scale, $"psi {psi}: {lhs} vs {rhs}");
        }
    }

    [Theory]
    [MemberData(nameof(Fourier.Backends.Names), MemberType = typeof(Fourier.Backends))]
    public void PreparationAdjointIsExact(string backend)
    {
        const int d = 32;
        var rng = new Random(23);
        foreach (var options in new[] { new ProjectorOptions(1, false), ProjectorOptions.Default })
        {
            var rot = new ImageRotator(d, options, Fourier.Backends.Get(backend));
            var img = VolumeProjectorTests.RandomFloats(rng, d * d);
            var prepared = rot.CreateImage();
            rot.Prepare(img, prepared);
            var y = rot.CreateImage();
            VolumeProjectorTests.RandomFloats(rng, y.Values.Length).CopyTo(y.Values);
            var back = new float[d * d];
            rot.PrepareAdjoint(y, back);
            double lhs = FourierLayout.WeightedInnerProduct(prepared.Values, y.Values, rot.PaddedSize);
            double rhs = VolumeProjectorTests.Dot(img, back);
            Assert.True(Math.Abs(lhs - rhs) <= 1e-5 * Math.Sqrt(VolumeProjectorTests.Dot(img, img) * FourierLayout.WeightedInnerProduct(y.Values, y.Values, rot.PaddedSize)), $"{options}: {lhs} vs {rhs}");
        }
    }

    [Fact]
    public void PreparingFromTheTransformEqualsPreparingFromTheImage()
    {
        var rot = new ImageRotator(D, ProjectorOptions.Default, FftBackends.Managed);
        var half = new float[2 * FourierLayout.HalfPlaneLength(D)];
        FftBackends.Managed.Plan2D(D).Forward(HandImage.Value, half);
        var a = rot.CreateImage();
        var b = rot.CreateImage();
        rot.Prepare(HandImage.Value, a);
        rot.PrepareFromTransform(half, b);
        double scale = Math.Sqrt(FourierLayout.WeightedInnerProduct(a.Values, a.Values, rot.PaddedSize) / a.Values.Length);
        for (int i = 0; i < a.Values.Length; i++) Assert.True(Math.Abs(a.Values[i] - b.Values[i]) < 1e-4 * scale);
    }
}
