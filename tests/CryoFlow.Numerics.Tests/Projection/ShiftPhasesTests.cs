using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Tests.Projection;

public class ShiftPhasesTests
{
    private const int D = 32;

    private static float[] Blob(double cx, double cy)
    {
        var img = new float[D * D];
        for (int y = 0; y < D; y++)
            for (int x = 0; x < D; x++)
                img[y * D + x] = (float)Math.Exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 8.0);
        return img;
    }

    [Fact]
    public void PhasesOfAnIntegerShiftEqualTheTransformOfTheRolledImage()
    {
        var disc = new FourierDisc(D, D / 2);
        var rng = new Random(3);
        var img = VolumeProjectorTests.RandomFloats(rng, D * D);
        var shifts = new[] { new PixelShift(3, -5), new PixelShift(-7, 2), new PixelShift(0, 0) };
        var phases = new float[shifts.Length * 2 * disc.Count];
        ShiftPhases.Compute(disc, shifts, phases);
        var f = ProjectionReferences.DiscTransform(img, disc);
        var shifted = new float[2 * disc.Count];
        for (int s = 0; s < shifts.Length; s++)
        {
            int sx = (int)shifts[s].X, sy = (int)shifts[s].Y;
            var rolled = new float[D * D]; // content moves by +s: rolled(x) = img(x - s)
            for (int y = 0; y < D; y++)
                for (int x = 0; x < D; x++)
                    rolled[((y + sy + D) % D) * D + (x + sx + D) % D] = img[y * D + x];
            ShiftPhases.Apply(f, phases.AsSpan(s * 2 * disc.Count, 2 * disc.Count), shifted);
            Assert.True(ProjectionReferences.RelativeError(shifted, ProjectionReferences.DiscTransform(rolled, disc), disc, disc.Count) < 1e-5);
        }
    }

    [Fact]
    public void ApplyingPlusOriginRecentresARelionParticle()
    {
        // RELION: the particle's centre sits at (box centre - origin); applying +origin re-centres it.
        var disc = new FourierDisc(D, D / 2);
        var origin = new PixelShift(4, -3);
        var particle = Blob(D / 2 - origin.X, D / 2 - origin.Y);
        var phases = new float[2 * disc.Count];
        ShiftPhases.Compute(disc, [origin], phases);
        var f = ProjectionReferences.DiscTransform(particle, disc);
        ShiftPhases.Apply(f, phases, f);
        Assert.True(ProjectionReferences.RelativeError(f, ProjectionReferences.DiscTransform(Blob(D / 2, D / 2), disc), disc, disc.Count) < 1e-4);
    }

    [Fact]
    public void ShiftAdjointIsTheConjugatePhase()
    {
        var disc = new FourierDisc(D, 13.5);
        var rng = new Random(4);
        var x = VolumeProjectorTests.RandomFloats(rng, 2 * disc.Count);
        var y = VolumeProjectorTests.RandomFloats(rng, 2 * disc.Count);
        var phases = new float[2 * disc.Count];
        ShiftPhases.Compute(disc, [new PixelShift(1.37, -2.81)], phases);
        var tx = new float[2 * disc.Count];
        var ty = new float[2 * disc.Count];
        ShiftPhases.Apply(x, phases, tx);
        ShiftPhases.ApplyAdjoint(y, phases, ty);
        double lhs = disc.InnerProduct(tx, y), rhs = disc.InnerProduct(x, ty);
        Assert.True(Math.Abs(lhs - rhs) <= 1e-5 * Math.Sqrt(disc.InnerProduct(x, x) * disc.InnerProduct(y, y)), $"{lhs} vs {rhs}");
        ShiftPhases.ApplyAdjoint(tx, phases, ty); // and it is the inverse
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - ty[i]) < 1e-6, $"{x[i]} vs {ty[i]}");
    }
}
