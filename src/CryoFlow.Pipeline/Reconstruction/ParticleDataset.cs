using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Pipeline.Stages.Extract;
using Serilog;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>
/// The particles of a run: the table (STAR, .cs, a bare .mrcs with a pixel size, or micrographs and picks through an
/// extraction manifest), the box and pixel size they share, each particle's CTF (the identity when the file has
/// none) and random access to the pixels.
/// </summary>
public sealed class ParticleDataset : IDisposable
{
    private ParticleDataset(ParticleTable table, IParticleImageSource images, int box, double pixelSize)
    {
        Table = table;
        Images = images;
        BoxSize = box;
        PixelSize = pixelSize;
    }

    public ParticleTable Table { get; }

    /// <summary>The pixels: a table's stacks, or micrographs cut as particles are read.</summary>
    public IParticleImageSource Images { get; }

    public int Count => Table.Count;

    public int BoxSize { get; }

    /// <summary>Å/px.</summary>
    public double PixelSize { get; }

    /// <summary>
    /// A CTF that is 1 at every frequency (amplitude contrast 1, no defocus, no Cs: gamma = -pi/2), for
    /// data without CTF parameters.
    /// </summary>
    public static CtfParameters IdentityCtf { get; } = new(0, 0, 0, 300, 0, 1);

    public CtfParameters CtfOf(int particle) => Table[particle].Ctf ?? IdentityCtf;

    /// <param name="path">.star, .cs, .mrcs, or an extraction manifest (.json, <see cref="ExtractionManifest"/>)</param>
    /// <param name="pixelSize">--apix: required for a bare stack, used when the metadata gives none</param>
    /// <param name="dataDir">--datadir</param>
    public static ParticleDataset Open(string path, double? pixelSize, string? dataDir, ILogger log)
    {
        if (ExtractionManifest.IsManifest(path)) return FromManifest(path, log);
        ParticleTable table = path.EndsWith(".mrcs", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".mrc", StringComparison.OrdinalIgnoreCase)
            ? FromStack(path, pixelSize, log)
            : ParticleTable.Read(path, new ParticleReadOptions { DataDir = dataDir, PixelSizeAngst = pixelSize, Logger = log });
        if (table.Count < 2)
            throw new CryoFlowDataException("a reconstruction needs at least 2 particles", new DataLocation(FilePath: path, Found: table.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var images = new ParticleImageReader(table, logger: log);
        try
        {
            var (w, h) = images.ImageSize(0);
            if (w != h || w % 2 != 0)
                throw new CryoFlowDataException("particle images must be square with an even box", table.ImageLocation(0) with { Expected = "square, even", Found = $"{w} x {h}" });
            var sizes = table.Particles.Select(p => p.PixelSizeAngst).Distinct().ToArray();
            if (sizes.Length > 1)
                throw new CryoFlowDataException("particles have different pixel sizes; reconstruct one pixel size at a time", new DataLocation(FilePath: path, Field: "rlnImagePixelSize",
                    Found: string.Join(", ", sizes.Select(s => s?.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) ?? "none"))));
            double apix = sizes[0] ?? pixelSize
                ?? throw new CryoFlowDataException("no pixel size: the file gives none; give --apix", new DataLocation(FilePath: path, Field: "rlnImagePixelSize"));
            return new ParticleDataset(table, images, w, apix);
        }
        catch
        {
            images.Dispose();
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
        return new ParticleDataset(extracted.Table, extracted.Images, options.FinalBox, sizes[0]!.Value);
    }

    /// <summary>A bare stack: every image a particle, no CTF, no poses.</summary>
    private static ParticleTable FromStack(string path, double? pixelSize, ILogger log)
    {
        var header = MrcReader.ReadHeader(path, log);
        double apix = pixelSize ?? header.VoxelSizeX
            ?? throw new MrcFormatException("the stack's header gives no pixel size; give --apix", new DataLocation(FilePath: path, Field: "CELLA/MX"));
        var builder = new ParticleTableBuilder(path);
        int g = builder.AddOpticsGroup(new OpticsSettings(apix, header.Nx, null, null, null));
        string name = Path.GetFileName(path);
        for (int i = 0; i < header.Nz; i++) builder.Add(g, new ParticleRef(name, i));
        return builder.Build(new ParticleReadOptions { WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(path)) });
    }

    public void Dispose() => (Images as IDisposable)?.Dispose();
}
