using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Pipeline.Stages.Extract;
using Serilog;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>
/// The particles of a run: the catalog (a STAR file streamed into a disk-backed <see cref="ParticleCatalog"/>, a .cs
/// file, a bare .mrcs with a pixel size, or micrographs and picks through an extraction manifest), the box and pixel
/// size they share, each particle's CTF (the identity when the file has none) and random access to the pixels.
/// </summary>
public sealed class ParticleDataset : IDisposable
{
    private ParticleDataset(ParticleCatalog catalog, IParticleImageSource images, int box, double pixelSize)
    {
        Catalog = catalog;
        Images = images;
        BoxSize = box;
        PixelSize = pixelSize;
    }

    /// <summary>The particles' metadata, on disk (a few hundred kB resident whatever their number).</summary>
    public ParticleCatalog Catalog { get; }

    /// <summary>The pixels: a catalog's stacks, or micrographs cut as particles are read.</summary>
    public IParticleImageSource Images { get; }

    public int Count => Catalog.Count;

    public int BoxSize { get; }

    /// <summary>Å/px.</summary>
    public double PixelSize { get; }

    /// <summary>
    /// A CTF that is 1 at every frequency, for data without CTF parameters: no defocus, no Cs, no amplitude contrast and a
    /// 90° phase shift, so gamma = -pi/2 and -sin(gamma) = 1. (Amplitude contrast 1 would say the same, but the CTF is
    /// defined for amplitude contrast below 1 only, and such a CTF was refused when the first particle was prepared.)
    /// </summary>
    public static CtfParameters IdentityCtf { get; } = new(0, 0, 0, 300, 0, 0, PhaseShiftDeg: 90);

    public CtfParameters CtfOf(int particle) => Catalog.CtfOf(particle) ?? IdentityCtf;

    /// <param name="path">.star, .cs, .mrcs, or an extraction manifest (.json, <see cref="ExtractionManifest"/>)</param>
    /// <param name="pixelSize">--apix: required for a bare stack, used when the metadata gives none</param>
    /// <param name="dataDir">--datadir</param>
    public static ParticleDataset Open(string path, double? pixelSize, string? dataDir, ILogger log)
    {
        if (ExtractionManifest.IsManifest(path)) return FromManifest(path, log);
        var catalog = path.EndsWith(".mrcs", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".mrc", StringComparison.OrdinalIgnoreCase)
            ? FromStack(path, pixelSize, log)
            : ParticleCatalog.Read(path, new ParticleReadOptions { DataDir = dataDir, PixelSizeAngst = pixelSize, Logger = log });
        ParticleImageReader? images = null;
        try
        {
            if (catalog.Count < 2)
                throw new CryoFlowDataException("a reconstruction needs at least 2 particles", new DataLocation(FilePath: path, Found: catalog.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            images = new ParticleImageReader(catalog, logger: log);
            var (w, h) = images.ImageSize(0);
            if (w != h || w % 2 != 0)
                throw new CryoFlowDataException("particle images must be square with an even box", catalog.ImageLocation(0) with { Expected = "square, even", Found = $"{w} x {h}" });
            var sizes = catalog.PixelSizes;
            if (sizes.Count > 1)
                throw new CryoFlowDataException("particles have different pixel sizes; reconstruct one pixel size at a time", new DataLocation(FilePath: path, Field: "rlnImagePixelSize",
                    Found: string.Join(", ", sizes.Select(s => s?.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) ?? "none"))));
            double apix = sizes[0] ?? pixelSize
                ?? throw new CryoFlowDataException("no pixel size: the file gives none; give --apix", new DataLocation(FilePath: path, Field: "rlnImagePixelSize"));
            return new ParticleDataset(catalog, images, w, apix);
        }
        catch
        {
            images?.Dispose();
            catalog.Dispose();
            throw;
        }
    }

    /// <summary>Micrographs and picks: particles cut from the micrographs as they are read, no stack written.</summary>
    private static ParticleDataset FromManifest(string path, ILogger log)
    {
        var (sources, options) = ExtractionManifest.Read(path);
        var extracted = ExtractedParticles.Create(ExtractionPlan.Create(sources, options, log), log);
        var sizes = extracted.Table.OpticsGroups.Select(g => g.PixelSizeAngst).Distinct().ToArray();
        if (sizes.Length > 1 || extracted.Table.Count < 2)
        {
            extracted.Dispose();
            throw new CryoFlowDataException(sizes.Length > 1 ? "micrographs of different pixel sizes; reconstruct one pixel size at a time" : "a reconstruction needs at least 2 particles",
                new DataLocation(FilePath: path, Found: sizes.Length > 1 ? string.Join(", ", sizes) : extracted.Table.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        return new ParticleDataset(ParticleCatalog.FromTable(extracted.Table), extracted.Images, options.FinalBox, sizes[0]!.Value);
    }

    /// <summary>
    /// Live mode: polls the watch until the pool holds enough particles to start (a held-out set of
    /// data.testSetSize, at most data.testSetMaxFraction of them, and one minibatch besides) or the watch ends (then any
    /// two particles do). The dataset grows afterwards as the run polls.
    /// </summary>
    /// <exception cref="CryoFlowDataException">the watch ended with fewer than 2 particles, or with micrographs of different pixel sizes</exception>
    /// <exception cref="OperationCanceledException">cancelled while waiting</exception>
    public static ParticleDataset WaitForLive(Stages.Extract.Watch.LiveParticles live, Configuration.DataOptions options, ILogger log, CancellationToken cancel)
    {
        var lastArrival = DateTimeOffset.Now;
        log.Information("Watching for micrographs every {Poll}; the run starts once {Needed} particles or more have arrived", live.Watch.PollInterval, StartsWith(options));
        while (true)
        {
            if (live.Poll() > 0)
            {
                lastArrival = DateTimeOffset.Now;
                log.Information("{Particles} particles from {Micrographs} micrographs so far ({Waiting} waiting)", live.Count, live.Micrographs, live.Waiting);
            }
            int n = live.Count;
            if (n >= 2 && n - options.TestSetSizeFor(n) >= options.MinibatchSize) break;
            if (live.Watch.StopReason(DateTimeOffset.Now, lastArrival) is string why)
            {
                if (n >= 2) break;
                throw new CryoFlowDataException($"the watch ended ({why}) with {n} particles; a reconstruction needs at least 2",
                    new DataLocation(Field: "micrographs", Expected: "at least 2 particles", Found: n.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            cancel.ThrowIfCancellationRequested();
            cancel.WaitHandle.WaitOne(live.Watch.PollInterval);
            cancel.ThrowIfCancellationRequested();
        }
        var sizes = live.Catalog.PixelSizes;
        if (sizes.Count > 1 || sizes[0] is null)
            throw new CryoFlowDataException("micrographs of different pixel sizes; reconstruct one pixel size at a time",
                new DataLocation(Field: "pixel size", Found: string.Join(", ", sizes)));
        return new ParticleDataset(live.Catalog, live, live.Options.FinalBox, sizes[0]!.Value);
    }

    /// <summary>The fewest particles a live run starts with: a held-out set and one minibatch.</summary>
    private static int StartsWith(Configuration.DataOptions options)
    {
        int n = 2;
        while (n - options.TestSetSizeFor(n) < options.MinibatchSize) n++;
        return n;
    }

    /// <summary>A bare stack: every image a particle, no CTF, no poses.</summary>
    private static ParticleCatalog FromStack(string path, double? pixelSize, ILogger log)
    {
        var header = MrcReader.ReadHeader(path, log);
        double apix = pixelSize ?? header.VoxelSizeX
            ?? throw new MrcFormatException("the stack's header gives no pixel size; give --apix", new DataLocation(FilePath: path, Field: "CELLA/MX"));
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var catalog = ParticleCatalog.Create([new OpticsSettings(apix, header.Nx, null, null, null)], hasCtf: false, hasPoses: false, hasRandomSubset: false, hasOrigin: false,
            path, new StackPathResolver(folder, null, folder));
        var group = catalog.Group(1);
        string name = Path.GetFileName(path);
        for (int i = 0; i < header.Nz; i++) catalog.Append(new Particle(new ParticleRef(name, i), group, apix, null, null, null, i));
        catalog.Flush();
        return catalog;
    }

    public void Dispose()
    {
        (Images as IDisposable)?.Dispose();
        Catalog.Dispose();
    }
}
