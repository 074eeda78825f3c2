using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Projection;
using CryoFlow.Numerics.Simulation;

namespace CryoFlow.Numerics.Tests.Marginalisation;

/// <summary>
/// A small synthetic data set for marginalisation tests: a smooth random-blob volume, particles rendered by
/// <see cref="ParticleRenderer"/> at known RELION poses and CTFs plus white Gaussian noise, prepared by
/// <see cref="ParticlePreparer"/>. Deterministic for a seed.
/// </summary>
internal sealed class MarginalisationScene
{
    public int BoxSize { get; }
    public double PixelSize { get; }
    public float[] Volume { get; }
    public ProjectorOptions Options { get; }
    public VolumeProjector Projector { get; }
    public ImageRotator Rotator { get; }
    public ParticlePreparer Preparer { get; }
    public List<(Pose Pose, CtfParameters Ctf, float[] Pixels, PreparedParticle Prepared)> Particles { get; } = [];

    /// <summary>The renderer that made the particles (Lanczos-3, 2x padded, premultiplied).</summary>
    public ParticleRenderer Renderer { get; }

    /// <summary><see cref="Projector"/>'s transform of <see cref="Volume"/>.</summary>
    public FourierVolume Transform { get; }

    /// <param name="amplitude">peak voxel value of the blobs: sets the SNR against unit-variance noise</param>
    /// <param name="maxOriginPx">origins are uniform in [-max, max] px per axis</param>
    /// <param name="extent">blob centres within +-extent D of the box centre (see <see cref="BlobVolume"/>)</param>
    public MarginalisationScene(int boxSize, double pixelSize, double amplitude, int particles, int seed, ProjectorOptions options, double noiseSigma = 1.0, double maxOriginPx = 2, double extent = 0.2)
    {
        BoxSize = boxSize;
        PixelSize = pixelSize;
        Options = options;
        var rng = new Random(seed);
        Volume = BlobVolume(boxSize, amplitude, rng, extent);
        Projector = new VolumeProjector(boxSize, options, FftBackends.Default);
        Rotator = new ImageRotator(boxSize, options, FftBackends.Default);
        Preparer = new ParticlePreparer(Rotator, new ParticlePreparationOptions(boxSize * 0.4), FftBackends.Default);
        Transform = Projector.CreateFourierVolume();
        Projector.Transform(Volume, Transform);
        var renderer = Renderer = new ParticleRenderer(Volume, boxSize, pixelSize, new ProjectorOptions(2, true, InterpolationKernel.Lanczos3), FftBackends.Default);
        var ws = renderer.CreateWorkspace();
        for (int i = 0; i < particles; i++)
        {
            var pose = new Pose(new EulerAngles(360 * rng.NextDouble() - 180, 20 + 140 * rng.NextDouble(), 360 * rng.NextDouble() - 180),
                (2 * rng.NextDouble() - 1) * maxOriginPx * pixelSize, (2 * rng.NextDouble() - 1) * maxOriginPx * pixelSize);
            var ctf = new CtfParameters(8000 + 6000 * rng.NextDouble(), 7500 + 6000 * rng.NextDouble(), 180 * rng.NextDouble(), 300, 2.7, 0.1);
            var pixels = new float[boxSize * boxSize];
            renderer.Render(pose, ctf, ws, pixels);
            for (int j = 0; j < pixels.Length; j++) pixels[j] = (float)(pixels[j] + noiseSigma * Gaussian(rng) + 5.0);
            var prepared = Preparer.CreateParticle();
            Preparer.Prepare(pixels, pixelSize, ctf, prepared);
            Particles.Add((pose, ctf, pixels, prepared));
        }
    }

    /// <summary>
    /// Six random Gaussian blobs, centres within +-<paramref name="extent"/> D of the centre per axis, widths
    /// (1-2) x extent D / 3.2, peaks about <paramref name="amplitude"/>.
    /// </summary>
    public static float[] BlobVolume(int d, double amplitude, Random rng, double extent = 0.2)
    {
        var v = new float[d * d * d];
        int blobs = 6;
        for (int b = 0; b < blobs; b++)
        {
            double cx = d / 2 + (2 * rng.NextDouble() - 1) * extent * d, cy = d / 2 + (2 * rng.NextDouble() - 1) * extent * d, cz = d / 2 + (2 * rng.NextDouble() - 1) * extent * d;
            double s = extent * d / 3.2 * (1 + rng.NextDouble()), a = amplitude * (0.5 + 0.5 * rng.NextDouble());
            for (int z = 0; z < d; z++)
                for (int y = 0; y < d; y++)
                    for (int x = 0; x < d; x++)
                    {
                        double r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz);
                        v[(z * d + y) * d + x] += (float)(a * Math.Exp(-r2 / (2 * s * s)));
                    }
        }
        return v;
    }

    public static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>Slices of <paramref name="volume"/> for the given directions on <paramref name="disc"/>.</summary>
    public SliceSet Slices(float[] volume, FourierDisc disc, ReadOnlySpan<EulerAngles> directions)
    {
        var set = new SliceSet(disc, directions);
        Update(set, volume);
        return set;
    }

    public void Update(SliceSet set, float[] volume)
    {
        if (ReferenceEquals(volume, Volume))
        {
            set.Update(Projector, Transform, 1);
            return;
        }
        var fv = Projector.CreateFourierVolume();
        Projector.Transform(volume, fv);
        set.Update(Projector, fv, 1);
    }
}
