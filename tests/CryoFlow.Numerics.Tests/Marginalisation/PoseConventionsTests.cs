using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Marginalisation;

namespace CryoFlow.Numerics.Tests.Marginalisation;

public class PoseConventionsTests
{
    [Fact]
    public void SliceShiftAndOriginConvertBothWays()
    {
        var rng = new Random(3);
        for (int i = 0; i < 100; i++)
        {
            double tx = 10 * rng.NextDouble() - 5, ty = 10 * rng.NextDouble() - 5, psi = 7 * rng.NextDouble() - 3.5;
            var (ox, oy) = PoseConventions.SliceShiftToOrigin(tx, ty, psi);
            Assert.Equal(Math.Sqrt(tx * tx + ty * ty), Math.Sqrt(ox * ox + oy * oy), 12);
            var (bx, by) = PoseConventions.OriginToSliceShift(ox, oy, psi);
            Assert.Equal(tx, bx, 12);
            Assert.Equal(ty, by, 12);
        }
        // psi = 0: the slice frame is the image frame and the origin is minus the displacement
        Assert.Equal((-2.0, 3.0), PoseConventions.SliceShiftToOrigin(2, -3, 0));
        // psi = 90 degrees: R2 = [[0, 1], [-1, 0]], origin = -R2 t = (-t_y, t_x)
        var (x90, y90) = PoseConventions.SliceShiftToOrigin(2, -3, Math.PI / 2);
        Assert.Equal(3, x90, 12);
        Assert.Equal(2, y90, 12);
    }

    [Fact]
    public void TheRelionPoseAddsTheInPlaneAngleToTheDirectionsPsi()
    {
        var pose = PoseConventions.ToRelionPose(new EulerAngles(30, 40, 170), 30 * Math.PI / 180, 1, 0, 2.5);
        Assert.Equal(30, pose.Angles.RotDeg);
        Assert.Equal(40, pose.Angles.TiltDeg);
        Assert.Equal(-160, pose.Angles.PsiDeg, 9);
        // Rz(psi) Euler(rot, tilt, psi0) = Euler(rot, tilt, psi0 + psi)
        var rz = new EulerAngles(0, 0, 30).ToMatrix();
        Assert.True((rz * new EulerAngles(30, 40, 170).ToMatrix()).MaxAbsDifference(pose.Angles.ToMatrix()) < 1e-12);
        Assert.Equal(-Math.Cos(Math.PI / 6) * 2.5, pose.OriginXAngst, 12);
        Assert.Equal(Math.Sin(Math.PI / 6) * 2.5, pose.OriginYAngst, 12);
        Assert.Equal(180, PoseConventions.WrapDegrees(-180));
        Assert.Equal(-90, PoseConventions.WrapDegrees(630));
    }
}
