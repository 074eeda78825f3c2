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
    /// A CTF that is 1 at every frequency (amplitude contrast 1, no defocus, no Cs: gamma = -pi/2), for
    /// data without CTF parameters.
    /// </summary>
    public static CtfParameters IdentityCtf { get; } = new(0, 0, 0, 300, 0, 1);

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
