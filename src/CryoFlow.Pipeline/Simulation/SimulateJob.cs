using System.Diagnostics;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Numerics.Resampling;
using CryoFlow.Numerics.Simulation;
using Serilog;

namespace CryoFlow.Pipeline.Simulation;

/// <summary>What a simulation wrote.</summary>
/// <param name="StackPath">DIR/particles.mrcs</param>
/// <param name="StarPath">DIR/particles.star</param>
/// <param name="BoxSize">image edge, px</param>
/// <param name="PixelSize">Å/px of the images</param>
/// <param name="SignalVariance">mean per-image variance of the noiseless images (the pilot's)</param>
/// <param name="NoiseSigma">standard deviation of the added white noise (0 for --snr inf)</param>
/// <param name="Seconds">wall time</param>
public sealed record SimulateResult(string StackPath, string StarPath, int BoxSize, double PixelSize, double SignalVariance, double NoiseSigma, double Seconds);

/// <summary>
/// `cryoflow simulate`: particle images of a volume at uniformly random poses, with a per-particle
/// CTF, Gaussian origin shifts and white Gaussian noise at a requested SNR, written as a RELION 3.1
/// dataset (particles.mrcs + particles.star with the true poses). Particles are rendered in parallel
/// batches and written in order as they are made, so memory depends on the box and the batch, never
/// on the number of particles; every particle's randomness depends only on (seed, index), so the
/// output is the same for any thread count.
/// </summary>
public static class SimulateJob
{
    public const string StackName = "particles.mrcs";
    public const string StarName = "particles.star";

    /// <summary>The ground truth at the output sampling (resampled when --box is given), with its voxel size.</summary>
    public const string TruthName = "truth.mrc";

    /// <summary>Particles whose noiseless images set the noise level for the requested SNR.</summary>
    public const int PilotCount = 256;

    /// <param name="volumePath">the input map (cubic, even box)</param>
    public static SimulateResult Run(string volumePath, SimulateOptions options, ILogger log, Action<long, long>? progress = null)
    {
        var (volume, box, voxel) = LoadVolume(volumePath, options.VoxelSize, log);
        return Run(volume, box, voxel, options, log, progress);
    }

    /// <summary>A cubic, even-box volume and its voxel size (<paramref name="voxelSize"/>, else the header's).</summary>
    public static (float[] Volume, int Box, double VoxelSize) LoadVolume(string volumePath, double? voxelSize, ILogger log)
    {
        float[] volume;
        int box;
        double? headerVoxel;
        using (var reader = MrcReader.OpenVolume(volumePath, log))
        {
            var h = reader.Header;
            if (h.Nx != h.Ny || h.Ny != h.Nz)
                throw new MrcFormatException("the volume must be cubic", new DataLocation(FilePath: volumePath, Field: "NX, NY, NZ", Expected: "NX = NY = NZ", Found: $"{h.Nx} x {h.Ny} x {h.Nz}"));
            if (h.Nx % 2 != 0)
                throw new MrcFormatException("the volume's box must be even", new DataLocation(FilePath: volumePath, Field: "NX", Expected: "even", Found: h.Nx.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            box = h.Nx;
            headerVoxel = h.VoxelSizeX;
            volume = reader.ReadVolume();
        }
        double voxel = voxelSize ?? headerVoxel
            ?? throw new MrcFormatException("the volume's header gives no voxel size; give --apix", new DataLocation(FilePath: volumePath, Field: "CELLA/MX"));
        return (volume, box, voxel);
    }

    /// <param name="volume">box^3 voxels, [z][y][x]</param>
    /// <param name="box">the volume's edge</param>
    /// <param name="voxelSize">Å per voxel</param>
    public static SimulateResult Run(float[] volume, int box, double voxelSize, SimulateOptions options, ILogger log, Action<long, long>? progress = null)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        int d = options.Box ?? box;
        double apix = voxelSize * box / d;
        if (d != box)
        {
            log.Information("Resampling the volume from {From}^3 at {FromApix:F3} Å to {To}^3 at {ToApix:F3} Å", box, voxelSize, d, apix);
            volume = FourierResampler.ResampleVolume(volume, box, d);
        }
        var renderer = new ParticleRenderer(volume, d, apix);
        int threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;

        double signalVar = PilotSignalVariance(renderer, options, apix, threads);
        double sigma = double.IsPositiveInfinity(options.Snr) ? 0 : Math.Sqrt(signalVar / options.Snr);
        log.Information("Signal variance {Signal:G4} per pixel; noise sigma {Sigma:G4} for SNR {Snr}", signalVar, sigma, options.Snr);

        Directory.CreateDirectory(options.OutputDirectory);
        MrcWriter.WriteVolume(Path.Combine(options.OutputDirectory, TruthName), volume, d, d, d, new MrcWriterOptions { VoxelSize = apix, Label = "CryoFlow simulate: ground truth" });
        string stackPath = Path.Combine(options.OutputDirectory, StackName);
        string starPath = Path.Combine(options.OutputDirectory, StarName);
        var optics = new OpticsSettings(apix, d, options.VoltageKv, options.SphericalAberrationMm, options.AmplitudeContrast);
        using var stack = MrcWriter.CreateStack(stackPath, d, d, new MrcWriterOptions { VoxelSize = apix, Label = "CryoFlow simulate" });
        using var star = new ParticleStarStreamWriter(starPath, [optics], hasCtf: true, hasPose: true, hasRandomSubset: true);

        // batches bounded to about 32 MB of images: memory never depends on the count
        int batch = (int)Math.Clamp(32L * 1024 * 1024 / (4L * d * d), 8, 1024);
        var images = new float[batch][];
        for (int i = 0; i < batch; i++) images[i] = new float[d * d];
        var draws = new ParticleDraw[batch];
        using var workspaces = new ThreadLocal<ParticleRenderer.Workspace>(renderer.CreateWorkspace);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };
        for (long start = 0; start < options.Count; start += batch)
        {
            int n = (int)Math.Min(batch, options.Count - start);
            Parallel.For(0, n, parallel, j =>
            {
                var draw = ParticleDraw.Create(options, apix, start + j);
                draws[j] = draw;
                renderer.Render(draw.Pose, draw.Ctf, workspaces.Value!, images[j]);
                if (sigma > 0) AddNoise(images[j], sigma, draw.NoiseSeed);
            });
            for (int j = 0; j < n; j++)
            {
                stack.AppendImage(images[j]);
                star.Add(1, new ParticleRef(StackName, checked((int)(start + j))), draws[j].Ctf, draws[j].Pose, (int)((start + j) % 2) + 1);
            }
            progress?.Invoke(start + n, options.Count);
        }
        stack.Complete();
        star.Complete();
        log.Information("Wrote {Count} particles to {Stack} and {Star} in {Seconds:F1} s", options.Count, stackPath, starPath, clock.Elapsed.TotalSeconds);
        return new SimulateResult(stackPath, starPath, d, apix, signalVar, sigma, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Mean over the first particles of the variance of their noiseless images over the whole box.</summary>
    private static double PilotSignalVariance(ParticleRenderer renderer, SimulateOptions options, double apix, int threads)
    {
        int n = (int)Math.Min(PilotCount, options.Count);
        var variances = new double[n];
        using var workspaces = new ThreadLocal<ParticleRenderer.Workspace>(renderer.CreateWorkspace);
        using var buffers = new ThreadLocal<float[]>(() => new float[renderer.BoxSize * renderer.BoxSize]);
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            var draw = ParticleDraw.Create(options, apix, i);
            var img = buffers.Value!;
            renderer.Render(draw.Pose, draw.Ctf, workspaces.Value!, img);
            double mean = 0;
            foreach (float v in img) mean += v;
            mean /= img.Length;
            double var = 0;
            foreach (float v in img) var += (v - mean) * (v - mean);
            variances[i] = var / img.Length;
        });
        return variances.Average();
    }

    private static void AddNoise(float[] image, double sigma, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < image.Length; i += 2)
        {
            // Box-Muller: both values of the pair
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double r = sigma * Math.Sqrt(-2 * Math.Log(u1));
            image[i] += (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < image.Length) image[i + 1] += (float)(r * Math.Sin(2 * Math.PI * u2));
        }
    }
}
