using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Numerics.Tests.Geometry;

public class EulerAnglesTests
{
    [Fact]
    public void BottomRowIsTheViewingDirectionRelionDocuments()
    {
        // RELION: A20 = sin(tilt)cos(rot), A21 = sin(tilt)sin(rot), A22 = cos(tilt)
        var e = new EulerAngles(30, 50, 70);
        var m = e.ToMatrix();
        double r = 30 * Math.PI / 180, t = 50 * Math.PI / 180;
        Assert.Equal(Math.Sin(t) * Math.Cos(r), m.M20, 12);
        Assert.Equal(Math.Sin(t) * Math.Sin(r), m.M21, 12);
        Assert.Equal(Math.Cos(t), m.M22, 12);
    }

    [Fact]
    public void MatrixIsRzPsiTimesRyTiltTimesRzRotOfPassiveRotations()
    {
        static Rotation3 Rz(double d) { double a = d * Math.PI / 180, c = Math.Cos(a), s = Math.Sin(a); return new(c, s, 0, -s, c, 0, 0, 0, 1); }
        static Rotation3 Ry(double d) { double a = d * Math.PI / 180, c = Math.Cos(a), s = Math.Sin(a); return new(c, 0, -s, 0, 1, 0, s, 0, c); }
        var rng = new Random(3);
        for (int i = 0; i < 100; i++)
        {
            double rot = rng.NextDouble() * 360 - 180, tilt = rng.NextDouble() * 180, psi = rng.NextDouble() * 360 - 180;
            var expected = Rz(psi) * Ry(tilt) * Rz(rot);
            Assert.True(new EulerAngles(rot, tilt, psi).ToMatrix().MaxAbsDifference(expected) < 1e-12);
        }
    }

    [Fact]
    public void AnglesFromMatrixRebuildTheSameMatrix()
    {
        var rng = new Random(7);
        for (int i = 0; i < 1000; i++)
        {
            var e = new EulerAngles(rng.NextDouble() * 360 - 180, rng.NextDouble() * 180, rng.NextDouble() * 360 - 180);
            var m = e.ToMatrix();
            var back = EulerAngles.FromMatrix(m);
            Assert.True(back.ToMatrix().MaxAbsDifference(m) < 1e-9, $"{e} -> {back}");
        }
        // gimbal cases: tilt 0 and 180
        foreach (var e in new[] { new EulerAngles(20, 0, 30), new EulerAngles(20, 180, 30) })
            Assert.True(EulerAngles.FromMatrix(e.ToMatrix()).ToMatrix().MaxAbsDifference(e.ToMatrix()) < 1e-9);
    }

    [Fact]
    public void AxisAngleOfZRotatesXTowardsY()
    {
        var r = Rotation3.FromAxisAngle(0, 0, Math.PI / 2);
        var (x, y, z) = r.Apply(1, 0, 0);
        Assert.Equal(0, x, 12);
        Assert.Equal(1, y, 12);
        Assert.Equal(0, z, 12);
        Assert.True((r * r.Transpose()).MaxAbsDifference(Rotation3.Identity) < 1e-12);
    }
}
