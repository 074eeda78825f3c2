using CryoFlow.Formats.Particles;

namespace CryoFlow.Formats.Tests.Particles;

internal static class ParticleAssert
{
    /// <summary>Same particles in the model's terms: images, pixel sizes, CTFs, poses, subsets, optics settings.</summary>
    public static void SameParticles(ParticleTable expected, ParticleTable actual, double tolerance = 0)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.OpticsGroups.Select(g => (g.Number, g.Settings)), actual.OpticsGroups.Select(g => (g.Number, g.Settings)));
        for (int i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var a = actual[i];
            Assert.Equal(e.Image, a.Image);
            Assert.Equal(e.Optics.Number, a.Optics.Number);
            Close(e.PixelSizeAngst, a.PixelSizeAngst, tolerance);
            Assert.Equal(e.RandomSubset, a.RandomSubset);
            Assert.Equal(e.Ctf is null, a.Ctf is null);
            if (e.Ctf is { } ec)
            {
                var ac = a.Ctf!.Value;
                Close(ec.DefocusU, ac.DefocusU, tolerance);
                Close(ec.DefocusV, ac.DefocusV, tolerance);
                Close(ec.DefocusAngleDeg, ac.DefocusAngleDeg, tolerance);
                Close(ec.VoltageKv, ac.VoltageKv, tolerance);
                Close(ec.SphericalAberrationMm, ac.SphericalAberrationMm, tolerance);
                Close(ec.AmplitudeContrast, ac.AmplitudeContrast, tolerance);
                Close(ec.PhaseShiftDeg, ac.PhaseShiftDeg, tolerance);
                Close(ec.BFactor, ac.BFactor, tolerance);
                Close(ec.Scale, ac.Scale, tolerance);
            }
            Assert.Equal(e.Pose is null, a.Pose is null);
            if (e.Pose is { } ep)
            {
                var ap = a.Pose!.Value;
                Close(ep.Angles.RotDeg, ap.Angles.RotDeg, tolerance);
                Close(ep.Angles.TiltDeg, ap.Angles.TiltDeg, tolerance);
                Close(ep.Angles.PsiDeg, ap.Angles.PsiDeg, tolerance);
                Close(ep.OriginXAngst, ap.OriginXAngst, tolerance);
                Close(ep.OriginYAngst, ap.OriginYAngst, tolerance);
            }
        }
    }

    private static void Close(double? e, double? a, double tolerance)
    {
        Assert.Equal(e is null, a is null);
        if (e is null) return;
        if (tolerance == 0) Assert.Equal(e.Value, a!.Value);
        else Assert.True(Math.Abs(e.Value - a!.Value) <= tolerance * Math.Max(1, Math.Abs(e.Value)), $"expected {e}, found {a}");
    }
}
