using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Simulation;

namespace CryoFlow.Numerics.Tests.Simulation;

public class ParticleRendererTests
{
    private const int D = 32;

    /// <summary>Smooth blobs well inside the box, so the projection is band-limited and has no wrap-around.</summary>
    private static float[] BlobVolume()
    {
        var v = new float[D * D * D];
        (double X, double Y, double Z, double S)[] blobs = [(16, 16, 16, 3), (20, 13, 15, 2), (12, 18, 19, 2.5), (17, 21, 12, 1.8)];
        for (int z = 0; z < D; z++)
            for (int y = 0; y < D; y++)
                for (int x = 0; x < D; x++)
                    foreach (var b in blobs)
                        v[(z * D + y) * D + x] += (float)Math.Exp(-((x - b.X) * (x - b.X) + (y - b.Y) * (y - b.Y) + (z - b.Z) * (z - b.Z)) / (2 * b.S * b.S));
        return v;
    }

    private static double RelativeError(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++) { num += (a[i] - b[i]) * (a[i] - b[i]); den += b[i] * (double)b[i]; }
        return Math.Sqrt(num / den);
    }

    [Fact]
    public void IdentityPoseRendersTheSumAlongZ()
    {
        var vol = BlobVolume();
        var r = new ParticleRenderer(vol, D, 2.0);
        var img = new float[D * D];
        r.Render(new Pose(new EulerAngles(0, 0, 0), 0, 0), null, r.CreateWorkspace(), img);
        var sum = new float[D * D];
        for (int z = 0; z < D; z++)
            for (int i = 0; i < D * D; i++) sum[i] += vol[z * D * D + i];
        Assert.True(RelativeError(img, sum) < 0.02, $"relative error {RelativeError(img, sum)}");
    }

    [Fact]
    public void TiltNinetyAboutYProjectsAlongX()
    {
        // RELION A = Ry(90): its bottom row (the viewing direction) is (1, 0, 0); image x is the volume's -z
        var vol = BlobVolume();
        var r = new ParticleRenderer(vol, D, 1.0);
        var img = new float[D * D];
        r.Render(new Pose(new EulerAngles(0, 90, 0), 0, 0), null, r.CreateWorkspace(), img);
        var expected = new float[D * D];
        for (int z = 0; z < D; z++)
            for (int y = 0; y < D; y++)
                for (int x = 0; x < D; x++)
                {
                    // image pixel (u, y) with u - D/2 = -(z - D/2)
                    int u = D - z;
                    if (u >= D) continue;
                    expected[y * D + u] += vol[(z * D + y) * D + x];
                }
        Assert.True(RelativeError(img, expected) < 0.02, $"relative error {RelativeError(img, expected)}");
    }

    [Fact]
    public void OriginMovesTheParticleByMinusOriginPixels()
    {
        var vol = BlobVolume();
        const double apix = 1.5;
        var r = new ParticleRenderer(vol, D, apix);
        var ws = r.CreateWorkspace();
        var angles = new EulerAngles(30, 60, 10);
        var centred = new float[D * D];
        var shifted = new float[D * D];
        r.Render(new Pose(angles, 0, 0), null, ws, centred);
        // origin (+2, -3) px: the particle centre moves to (D/2 - 2, D/2 + 3)
        r.Render(new Pose(angles, 2 * apix, -3 * apix), null, ws, shifted);
        for (int y = 0; y < D; y++)
            for (int x = 0; x < D; x++)
            {
                int sx = ((x + 2) % D + D) % D, sy = ((y - 3) % D + D) % D;
                Assert.Equal(centred[sy * D + sx], shifted[y * D + x], 1e-4);
            }
    }

    [Fact]
    public void CtfScalesTheMeanByTheAmplitudeContrastWithRelionsSign()
    {
        var vol = BlobVolume();
        var r = new ParticleRenderer(vol, D, 2.0);
        var ws = r.CreateWorkspace();
        var pose = new Pose(new EulerAngles(10, 20, 30), 0, 0);
        var plain = new float[D * D];
        var withCtf = new float[D * D];
        r.Render(pose, null, ws, plain);
        r.Render(pose, new CtfParameters(15000, 14000, 30, 300, 2.7, 0.1), ws, withCtf);
        // at k = 0 RELION's CTF is -sin(-atan(Q/sqrt(1-Q^2))) = Q: the mean keeps its (positive) sign, scaled by Q
        Assert.Equal(0.1 * plain.Average(), withCtf.Average(), 4);
        Assert.True(withCtf.Average() > 0);
    }
}
