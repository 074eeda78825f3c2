using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Simulation;

/// <summary>
/// Renders noiseless particle images of a volume in RELION's conventions: the projection along the
/// pose's viewing direction (Fourier central slice up to Nyquist, |k| &lt; D/2), multiplied by the CTF
/// (RELION's sign: white protein, CTF &gt; 0 at low frequency), with the particle centre displaced to
/// (box centre - origin). The volume is transformed once; rendering is thread-safe with one
/// <see cref="Workspace"/> per thread.
/// </summary>
public sealed class ParticleRenderer
{
    private readonly VolumeProjector _projector;
    private readonly FourierVolume _transform;
    private readonly FourierDisc _disc;
    private readonly IFft2D _fft2;

    /// <param name="volume">D^3 voxels, [z][y][x], centre voxel D/2</param>
    /// <param name="boxSize">D, even</param>
    /// <param name="pixelSize">Å per pixel of the images (and per voxel of the volume)</param>
    /// <param name="options">projector settings (default: Lanczos a = 3, premultiplied, 2x oversampled: under 2% relative
    /// error against a brute-force line integral of smooth test volumes, where linear interpolation gives 2.6%)</param>
    /// <param name="backend">FFT backend; default <see cref="FftBackends.Default"/></param>
    public ParticleRenderer(ReadOnlySpan<float> volume, int boxSize, double pixelSize, ProjectorOptions? options = null, IFftBackend? backend = null)
    {
        if (!(pixelSize > 0)) throw new ArgumentOutOfRangeException(nameof(pixelSize), pixelSize, "pixel size must be positive");
        _projector = new VolumeProjector(boxSize, options ?? new ProjectorOptions(2, true, InterpolationKernel.Lanczos3), backend);
        _transform = _projector.CreateFourierVolume();
        _projector.Transform(volume, _transform);
        _disc = new FourierDisc(boxSize, boxSize / 2.0);
        _fft2 = (backend ?? FftBackends.Default).Plan2D(boxSize);
        BoxSize = boxSize;
        PixelSize = pixelSize;
    }

    public int BoxSize { get; }

    public double PixelSize { get; }

    /// <summary>The disc of frequencies rendered (|k| &lt; D/2).</summary>
    public FourierDisc Disc => _disc;

    /// <summary>Per-thread scratch.</summary>
    public sealed class Workspace
    {
        internal Workspace(ParticleRenderer r)
        {
            Slice = new float[2 * r._disc.Count];
            Ctf = new float[r._disc.Count];
            Phase = new float[2 * r._disc.Count];
            HalfPlane = new float[2 * FourierLayout.HalfPlaneLength(r.BoxSize)];
        }

        internal float[] Slice { get; }
        internal float[] Ctf { get; }
        internal float[] Phase { get; }
        internal float[] HalfPlane { get; }
    }

    public Workspace CreateWorkspace() => new(this);

    /// <summary>The transform of the rendered image on <see cref="Disc"/> (interleaved complex).</summary>
    /// <param name="pose">RELION angles and origin in Å</param>
    /// <param name="ctf">the particle's CTF, or null for none</param>
    /// <param name="ws">this thread's workspace</param>
    /// <param name="disc">receives 2 * Disc.Count floats</param>
    public void RenderTransform(in Pose pose, CtfParameters? ctf, Workspace ws, Span<float> disc)
    {
        _projector.Project(_transform, _disc, pose.Angles.ToMatrix(), disc);
        if (ctf is CtfParameters c)
        {
            c.CreateEvaluator().EvaluateDisc(_disc, PixelSize, ws.Ctf);
            for (int j = 0; j < ws.Ctf.Length; j++)
            {
                disc[2 * j] *= ws.Ctf[j];
                disc[2 * j + 1] *= ws.Ctf[j];
            }
        }
        if (pose.OriginXAngst != 0 || pose.OriginYAngst != 0)
        {
            // the particle centre sits at (box centre - origin): a real-space displacement by -origin
            var shift = new PixelShift(-pose.OriginXAngst / PixelSize, -pose.OriginYAngst / PixelSize);
            ShiftPhases.Compute(_disc, [shift], ws.Phase);
            ShiftPhases.Apply(disc, ws.Phase, disc);
        }
    }

    /// <summary>A noiseless particle image.</summary>
    /// <param name="image">receives D*D floats, [y][x]</param>
    public void Render(in Pose pose, CtfParameters? ctf, Workspace ws, Span<float> image)
    {
        if (image.Length != BoxSize * BoxSize) throw new ArgumentException($"image buffer has {image.Length} floats, expected {BoxSize * BoxSize}", nameof(image));
        RenderTransform(pose, ctf, ws, ws.Slice);
        _disc.Scatter(ws.Slice, ws.HalfPlane);
        _fft2.Inverse(ws.HalfPlane, image);
    }
}
