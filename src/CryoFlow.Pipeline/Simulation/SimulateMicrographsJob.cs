using System.Diagnostics;
using System.Globalization;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Resampling;
using CryoFlow.Numerics.Simulation;
using Serilog;

namespace CryoFlow.Pipeline.Simulation;

/// <summary>What `cryoflow simulate --micrographs` makes.</summary>
/// <param name="Particles">the particle settings (volume sampling, SNR, defocus range, shifts, seed, microscope); the
/// defocus is drawn per micrograph, the pose and origin shift per particle</param>
/// <param name="MicrographCount">micrographs</param>
/// <param name="MicrographSize">edge of the square micrographs, px (even)</param>
/// <param name="ParticlesPerMicrograph">particles on each, at random non-overlapping places</param>
public sealed record SimulateMicrographsOptions(SimulateOptions Particles, int MicrographCount, int MicrographSize = 1024, int ParticlesPerMicrograph = 40)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the option that is out of range.</summary>
    public void Validate(int box)
    {
        Particles.Validate();
        if (MicrographCount < 1) throw new ArgumentException($"--micrographs must be at least 1 (found {MicrographCount})");
        if (MicrographSize < 4 * box || MicrographSize % 2 != 0) throw new ArgumentException($"--micrograph-size must be even and at least 4 particle boxes, {4 * box} px (found {MicrographSize})");
        int capacity = SimulateMicrographsJob.Cells(MicrographSize, box) * SimulateMicrographsJob.Cells(MicrographSize, box);
        if (ParticlesPerMicrograph < 1 || ParticlesPerMicrograph > capacity)
            throw new ArgumentException($"--per-micrograph must be between 1 and {capacity} for {MicrographSize} px micrographs and a {box} px particle box (found {ParticlesPerMicrograph})");
    }
}

/// <summary>What a micrograph simulation wrote.</summary>
/// <param name="MicrographPaths">DIR/Micrographs/mic_NNN.mrc</param>
/// <param name="PicksDirectory">DIR/picks, one mic_NNN_autopick.star each (centres, micrograph px)</param>
/// <param name="CtfStarPath">DIR/micrographs_ctf.star (RELION 3.1, micrograph names relative to DIR)</param>
/// <param name="TruthPath">DIR/truth.mrc</param>
/// <param name="TruthStarPath">DIR/truth.star: every particle's true pose, CTF, micrograph and coordinate, its image named as
/// `cryoflow extract --out Particles` run in DIR names it (so `relion_reconstruct --i truth.star --ctf` there gives the
/// information limit of the extracted particles)</param>
/// <param name="BoxSize">particle box of the rendered projections, px</param>
/// <param name="PixelSize">Å/px</param>
/// <param name="NoiseSigma">standard deviation of the white noise</param>
/// <param name="Seconds">wall time</param>
public sealed record SimulateMicrographsResult(IReadOnlyList<string> MicrographPaths, string PicksDirectory, string CtfStarPath, string TruthPath,
    string TruthStarPath, int BoxSize, double PixelSize, double NoiseSigma, long Particles, double Seconds);

/// <summary>
/// A simulated collection session for testing extraction: micrographs with particles of a volume at known places,
/// poses and defocus, plus picks and CTF files as a picker and CTFFIND would leave them. Each micrograph is the sum
/// of the particles' projections (each displaced by its origin shift from the picked pixel), filtered by the
/// micrograph's CTF over the whole micrograph (so the CTF's delocalisation is physical), negated (dark protein, as
/// a raw micrograph) on a constant background, plus white Gaussian noise. The noise level gives the requested SNR
/// over the particle boxes of the first micrograph. Every micrograph depends only on (seed, its number).
/// </summary>
public static class SimulateMicrographsJob
{
    public const string MicrographFolder = "Micrographs";
    public const string PicksFolder = "picks";
    public const string CtfStarName = "micrographs_ctf.star";
    public const string PickSuffix = "_autopick.star";
    public const string TruthStarName = "truth.star";

    /// <summary>The folder truth.star's image names point into: where `cryoflow extract --out Particles` run in the session folder writes.</summary>
    public const string ParticlesFolder = "Particles";

    /// <summary>The mean grey level the negated signal sits on.</summary>
    public const float Background = 100;

    /// <summary>Cells of the placement grid along one axis: boxes 1.125 x the particle box apart, one box from the edges.</summary>
    internal static int Cells(int micrographSize, int box) => (micrographSize - 2 * box) / CellSize(box);

    private static int CellSize(int box) => box + box / 8;

    private sealed record Micrograph(float[] Pixels, (int X, int Y)[] Centres, CtfParameters Ctf, Pose[] Poses);

    /// <param name="volume">box^3 voxels, [z][y][x]</param>
    /// <param name="box">the volume's edge</param>
    /// <param name="voxelSize">Å per voxel</param>
    public static SimulateMicrographsResult Run(float[] volume, int box, double voxelSize, SimulateMicrographsOptions options, ILogger log, Action<long, long>? progress = null)
    {
        var p = options.Particles;
        int d = p.Box ?? box;
        options.Validate(d);
        var clock = Stopwatch.StartNew();
        double apix = voxelSize * box / d;
        if (d != box) volume = FourierResampler.ResampleVolume(volume, box, d);
        var renderer = new ParticleRenderer(volume, d, apix);
        int threads = p.Threads > 0 ? p.Threads : Environment.ProcessorCount;

        string dir = p.OutputDirectory;
        Directory.CreateDirectory(Path.Combine(dir, MicrographFolder));
        Directory.CreateDirectory(Path.Combine(dir, PicksFolder));
        string truth = Path.Combine(dir, SimulateJob.TruthName);
        MrcWriter.WriteVolume(truth, volume, d, d, d, new MrcWriterOptions { VoxelSize = apix, Label = "CryoFlow simulate: ground truth" });

        var pilot = Render(renderer, options, apix, 0);
        double signalVar = pilot.Centres.Average(c => BoxVariance(pilot.Pixels, options.MicrographSize, c, d));
        double sigma = double.IsPositiveInfinity(p.Snr) ? 0 : Math.Sqrt(signalVar / p.Snr);
        log.Information("Signal variance {Signal:G4} per pixel over the particle boxes; noise sigma {Sigma:G4} for SNR {Snr}", signalVar, sigma, p.Snr);

        var paths = new string[options.MicrographCount];
        var ctfs = new CtfParameters[options.MicrographCount];
        var truths = new ((int X, int Y)[] Centres, Pose[] Poses)[options.MicrographCount];
        long done = 0;
        Parallel.For(0, options.MicrographCount, new ParallelOptions { MaxDegreeOfParallelism = threads }, m =>
        {
            var mic = m == 0 ? pilot : Render(renderer, options, apix, m);
            var px = mic.Pixels;
            var rng = new Random(Sampling.Seeds.Mix(p.Seed, -2 - (long)m));
            for (int i = 0; i < px.Length; i++) px[i] = (float)(Background - px[i] + (sigma > 0 ? sigma * ParticleDraw.Gaussian(rng) : 0));
            string name = MicrographName(m);
            paths[m] = Path.Combine(dir, MicrographFolder, name + ".mrc");
            using (var w = MrcWriter.CreateStack(paths[m], options.MicrographSize, options.MicrographSize, new MrcWriterOptions { VoxelSize = apix, Label = "CryoFlow simulate: micrograph" }))
            {
                w.AppendImage(px);
                w.Complete();
            }
            WritePicks(Path.Combine(dir, PicksFolder, name + PickSuffix), mic.Centres);
            ctfs[m] = mic.Ctf;
            truths[m] = (mic.Centres, mic.Poses);
            progress?.Invoke(Interlocked.Increment(ref done), options.MicrographCount);
        });
        string ctfStar = Path.Combine(dir, CtfStarName);
        WriteCtfStar(ctfStar, ctfs, apix, p);
        string truthStar = Path.Combine(dir, TruthStarName);
        WriteTruthStar(truthStar, ctfs, truths, apix, d, p);
        long particles = (long)options.MicrographCount * options.ParticlesPerMicrograph;
        log.Information("Wrote {Count} micrographs of {Size} px with {Particles} particles to {Dir} in {Seconds:F1} s",
            options.MicrographCount, options.MicrographSize, particles, dir, clock.Elapsed.TotalSeconds);
        return new SimulateMicrographsResult(paths, Path.Combine(dir, PicksFolder), ctfStar, truth, truthStar, d, apix, sigma, particles, clock.Elapsed.TotalSeconds);
    }

    /// <summary>mic_000, mic_001, ...</summary>
    public static string MicrographName(int m) => "mic_" + m.ToString("D3", CultureInfo.InvariantCulture);

    /// <summary>The noiseless signal of micrograph <paramref name="m"/> (CTF-filtered sum of projections, white protein).</summary>
    private static Micrograph Render(ParticleRenderer renderer, SimulateMicrographsOptions options, double apix, int m)
    {
        var p = options.Particles;
        int s = options.MicrographSize, d = renderer.BoxSize, cell = CellSize(d), cells = Cells(s, d);
        var rng = new Random(Sampling.Seeds.Mix(p.Seed, -1 - (long)m));
        double u = p.DefocusMin + rng.NextDouble() * (p.DefocusMax - p.DefocusMin);
        var ctf = new CtfParameters(u, u - rng.NextDouble() * p.Astigmatism, rng.NextDouble() * 180, p.VoltageKv, p.SphericalAberrationMm, p.AmplitudeContrast, 0, p.BFactor, 1);

        // distinct cells, each particle jittered inside its cell
        var order = Enumerable.Range(0, cells * cells).ToArray();
        rng.Shuffle(order);
        var centres = new (int X, int Y)[options.ParticlesPerMicrograph];
        for (int j = 0; j < centres.Length; j++)
        {
            int cx = order[j] % cells, cy = order[j] / cells, slack = cell - d;
            centres[j] = (d + cx * cell + d / 2 + rng.Next(slack + 1), d + cy * cell + d / 2 + rng.Next(slack + 1));
        }

        var image = new float[s * s];
        var tile = new float[d * d];
        var ws = renderer.CreateWorkspace();
        var poses = new Pose[centres.Length];
        for (int j = 0; j < centres.Length; j++)
        {
            var draw = ParticleDraw.Create(p, apix, (long)m * options.ParticlesPerMicrograph + j);
            poses[j] = draw.Pose;
            renderer.Render(draw.Pose, null, ws, tile);
            var (x, y) = centres[j];
            for (int ty = 0; ty < d; ty++)
            {
                var row = image.AsSpan((y - d / 2 + ty) * s + x - d / 2, d);
                for (int tx = 0; tx < d; tx++) row[tx] += tile[ty * d + tx];
            }
        }

        var fft = FftBackends.Default.Plan2D(s);
        var half = new float[fft.ComplexLength];
        var filter = new float[FourierLayout.HalfPlaneLength(s)];
        fft.Forward(image, half);
        ctf.CreateEvaluator().EvaluateHalfPlane(s, apix, filter);
        for (int i = 0; i < filter.Length; i++)
        {
            half[2 * i] *= filter[i];
            half[2 * i + 1] *= filter[i];
        }
        fft.Inverse(half, image);
        return new Micrograph(image, centres, ctf, poses);
    }

    private static double BoxVariance(float[] image, int s, (int X, int Y) c, int d)
    {
        double sum = 0, sum2 = 0;
        for (int y = c.Y - d / 2; y < c.Y + d / 2; y++)
            for (int x = c.X - d / 2; x < c.X + d / 2; x++)
            {
                double v = image[y * s + x];
                sum += v;
                sum2 += v * v;
            }
        double n = (double)d * d, mean = sum / n;
        return sum2 / n - mean * mean;
    }

    /// <summary>A RELION autopick file: centres and a figure of merit of 1.</summary>
    private static void WritePicks(string path, (int X, int Y)[] centres)
    {
        var t = new StarTable(RelionLabels.CoordinateX, RelionLabels.CoordinateY, RelionLabels.AutopickFigureOfMerit);
        foreach (var (x, y) in centres) t.AddRow(Str(x), Str(y), "1");
        var doc = new StarDocument(StarVersions.Relion31);
        doc.AddBlock("", t);
        doc.Write(path);
    }

    /// <summary>micrographs_ctf.star as RELION 3.1's CtfFind job writes it (names relative to the simulation folder).</summary>
    private static void WriteCtfStar(string path, CtfParameters[] ctfs, double apix, SimulateOptions p)
    {
        var optics = new StarTable(RelionLabels.OpticsGroupName, RelionLabels.OpticsGroup, RelionLabels.MicrographOriginalPixelSize, RelionLabels.Voltage,
            RelionLabels.SphericalAberration, RelionLabels.AmplitudeContrast, RelionLabels.MicrographPixelSize);
        optics.AddRow("opticsGroup1", "1", Num(apix), Num(p.VoltageKv), Num(p.SphericalAberrationMm), Num(p.AmplitudeContrast), Num(apix));
        var mics = new StarTable(RelionLabels.MicrographName, RelionLabels.OpticsGroup, RelionLabels.DefocusU, RelionLabels.DefocusV,
            RelionLabels.CtfAstigmatism, RelionLabels.DefocusAngle, RelionLabels.CtfFigureOfMerit, RelionLabels.CtfMaxResolution);
        for (int m = 0; m < ctfs.Length; m++)
        {
            var c = ctfs[m];
            mics.AddRow($"{MicrographFolder}/{MicrographName(m)}.mrc", "1", Num(c.DefocusU), Num(c.DefocusV), Num(c.DefocusU - c.DefocusV), Num(c.DefocusAngleDeg), "1", Num(2 * apix));
        }
        var doc = new StarDocument(StarVersions.Relion31);
        doc.AddBlock("optics", optics);
        doc.AddBlock("micrographs", mics);
        doc.Write(path);
    }

    /// <summary>The true pose of every particle, as a RELION 3.1 particle file over the stacks extraction will write.</summary>
    private static void WriteTruthStar(string path, CtfParameters[] ctfs, ((int X, int Y)[] Centres, Pose[] Poses)[] truths, double apix, int box, SimulateOptions p)
    {
        var optics = new OpticsSettings(apix, box, p.VoltageKv, p.SphericalAberrationMm, p.AmplitudeContrast);
        using var star = new ParticleStarStreamWriter(path, [optics], hasCtf: true, hasPose: true, hasRandomSubset: true, hasOrigin: true);
        long n = 0;
        for (int m = 0; m < truths.Length; m++)
        {
            string name = MicrographName(m);
            var (centres, poses) = truths[m];
            for (int j = 0; j < centres.Length; j++)
                star.Add(1, new ParticleRef($"{ParticlesFolder}/{name}_particles.mrcs", j), ctfs[m], poses[j], (int)(n++ % 2) + 1,
                    new ParticleOrigin($"{MicrographFolder}/{name}.mrc", centres[j].X, centres[j].Y));
        }
        star.Complete();
    }

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Num(double v) => StarNumbers.Format(v);
}
