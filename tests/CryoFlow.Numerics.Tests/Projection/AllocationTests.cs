using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Tests.Projection;

/// <summary>Hot paths allocate nothing once their workspaces exist (power-of-two sizes below 1024).</summary>
public class AllocationTests
{
    /// <summary>
    /// Bytes one call allocates in steady state: the least over a few calls after a warm-up. MathNet's FFT (behind the
    /// managed backend) keeps process-wide caches that another test, running a different size on another thread, can
    /// evict, so a single call may re-allocate them; our own code must reach zero.
    /// </summary>
    private static long Allocated(Action a)
    {
        a(); // warm: plans, per-thread scratch, JIT
        long least = long.MaxValue;
        for (int attempt = 0; attempt < 5 && least > 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            a();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }

    [Theory]
    [MemberData(nameof(Fourier.Backends.Names), MemberType = typeof(Fourier.Backends))]
    public void FftPlansDoNotAllocate(string backend)
    {
        var b = Fourier.Backends.Get(backend);
        foreach (IRealFft plan in new IRealFft[] { b.Plan2D(64), b.Plan3D(32) })
        {
            var real = new float[plan.RealLength];
            var half = new float[plan.ComplexLength];
            Assert.Equal(0, Allocated(() => { plan.Forward(real, half); plan.Inverse(half, real); }));
        }
    }

    [Fact]
    public void SlicingRotationShiftsAndCtfDoNotAllocate()
    {
        const int d = 32;
        var disc = new FourierDisc(d, 14);
        var proj = new VolumeProjector(d, ProjectorOptions.Default, FftBackends.Managed);
        var volume = new float[d * d * d];
        var fv = proj.CreateFourierVolume();
        var acc = proj.CreateFourierVolume();
        var slice = new float[2 * disc.Count];
        var grad = new float[d * d * d];
        var a = new EulerAngles(10, 20, 30).ToMatrix();
        Assert.Equal(0, Allocated(() =>
        {
            proj.Transform(volume, fv);
            proj.Project(fv, disc, a, slice);
            proj.ProjectAdjointAdd(slice, disc, a, acc);
            proj.TransformAdjoint(acc, grad);
            proj.ProjectRealSpaceAdjoint(slice, disc, a, grad);
        }));
        var rot = new ImageRotator(d, ProjectorOptions.Default, FftBackends.Managed);
        var img = rot.CreateImage();
        var image = new float[d * d];
        Assert.Equal(0, Allocated(() =>
        {
            rot.Prepare(image, img);
            rot.Rotate(img, disc, 0.3, slice);
            rot.RotateAdjointAdd(slice, disc, 0.3, img);
        }));
        var phases = new float[2 * disc.Count];
        var shift = new[] { new PixelShift(1.5, -2) };
        var ctf = new float[disc.Count];
        var evaluator = new CtfParameters(15000, 14000, 10, 300, 2.7, 0.1).CreateEvaluator();
        Assert.Equal(0, Allocated(() =>
        {
            ShiftPhases.Compute(disc, shift, phases);
            ShiftPhases.Apply(slice, phases, slice);
            evaluator.EvaluateDisc(disc, 1.5, ctf, 0.4);
        }));
    }
}
