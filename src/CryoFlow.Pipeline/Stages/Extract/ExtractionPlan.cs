using System.Globalization;
using CryoFlow.Formats.Coordinates;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Micrographs;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using Serilog;

namespace CryoFlow.Pipeline.Stages.Extract;

/// <summary>What to extract from: micrograph files or a micrographs STAR, coordinate files, CTF files (all optional but the first two).</summary>
/// <param name="Micrographs">files, folders, patterns ('Micrographs/*.mrc'), or a STAR file listing rlnMicrographName</param>
/// <param name="Coordinates">coordinate files, folders or patterns (<see cref="CoordinateReader"/>)</param>
/// <param name="Ctf">a micrographs_ctf.star, or CTFFIND4 .txt files, folders or patterns; empty for no CTF</param>
public sealed record ExtractionSources(IReadOnlyList<string> Micrographs, IReadOnlyList<string> Coordinates, IReadOnlyList<string> Ctf);

/// <summary>One micrograph with picks, and its CTF when one was given.</summary>
/// <param name="Path">the micrograph file as given (relative paths stay relative: it is written as rlnMicrographName)</param>
/// <param name="Picks">its coordinate set</param>
/// <param name="Ctf">its CTF estimate, or null when no CTF files were given</param>
public sealed record MicrographInput(string Path, CoordinateSource Picks, MicrographCtf? Ctf)
{
    /// <summary>The micrograph's file name without extension; its stack is &lt;Name&gt;_particles.mrcs.</summary>
    public string Name => MicrographIndex.Stem(Path);

    public override string ToString() => Path;
}

/// <summary>A particle to cut: its centre as picked and the lower corner of its window in the micrograph.</summary>
public readonly record struct PlannedParticle(double X, double Y, int X0, int Y0);

/// <summary>A micrograph with its size, pixel size and the windows that lie inside it.</summary>
/// <param name="DroppedAtEdge">picks whose box would cross the micrograph's edge (RELION pads them; CryoFlow leaves them out)</param>
/// <param name="BelowMinScore">picks under the score threshold</param>
public sealed record PlannedMicrograph(MicrographInput Input, int Width, int Height, double PixelSize, IReadOnlyList<PlannedParticle> Particles, int DroppedAtEdge, int BelowMinScore)
{
    /// <summary>The optics of its extracted particles.</summary>
    public OpticsSettings Optics(ExtractOptions o) => ExtractionPlan.OpticsOf(Input, PixelSize, o);

    /// <summary>rlnMicrographName, rlnCoordinateX/Y of particle <paramref name="i"/>.</summary>
    public ParticleOrigin Origin(int i) => new(Input.Path, Particles[i].X, Particles[i].Y);
}

/// <summary>
/// Which micrographs to extract from, with their picks and CTF, and what could not be paired, decided from names
/// before any micrograph is read (<see cref="MicrographMatcher"/>, <see cref="MicrographCtfMatcher"/>). Coordinates
/// of per-micrograph files and micrograph headers are read only when <see cref="Locate"/> is called, so a plan for
/// 10^4 micrographs is small.
/// </summary>
public sealed class ExtractionPlan(ExtractOptions options, IReadOnlyList<MicrographInput> micrographs, MatchReport match,
    IReadOnlyList<string> withoutCtf, IReadOnlyList<MicrographCtf> ctfWithoutMicrograph, bool hasCtf)
{
    public ExtractOptions Options { get; } = options;

    /// <summary>Micrographs to extract from, in name order.</summary>
    public IReadOnlyList<MicrographInput> Micrographs { get; } = micrographs;

    /// <summary>The pairing of micrographs and coordinate files.</summary>
    public MatchReport Match { get; } = match;

    /// <summary>Micrographs with picks but no CTF estimate (skipped) when CTF files were given.</summary>
    public IReadOnlyList<string> MicrographsWithoutCtf { get; } = withoutCtf;

    /// <summary>CTF estimates naming no given micrograph.</summary>
    public IReadOnlyList<MicrographCtf> CtfWithoutMicrograph { get; } = ctfWithoutMicrograph;

    /// <summary>Whether CTF files were given (then every planned micrograph has a CTF).</summary>
    public bool HasCtf { get; } = hasCtf;

    /// <summary>Picks in the coordinate files of the planned micrographs, after the score threshold.</summary>
    public long PickCount => Micrographs.Sum(m => (long)m.Picks.PickCount);

    /// <exception cref="CryoFlowDataException">a missing or unreadable file, clashing names</exception>
    /// <exception cref="ArgumentException">bad options</exception>
    public static ExtractionPlan Create(ExtractionSources sources, ExtractOptions options, ILogger log)
    {
        options.Validate();
        var micrographs = MicrographPaths(sources.Micrographs);
        var index = new MicrographIndex(micrographs);
        var coordinateFiles = InputFiles.Expand(sources.Coordinates, "coordinates", CoordinateReader.Extensions);
        var match = MicrographMatcher.Match(index, CoordinateReader.Catalog(coordinateFiles, options.CoordinateOptions));
        log.Information("{Micrographs} micrographs, {Files} coordinate files: {Report}", index.Count, coordinateFiles.Count, match.Describe());

        bool hasCtf = sources.Ctf.Count > 0;
        CtfAssignment? ctf = null;
        if (hasCtf)
        {
            var ctfFiles = InputFiles.Expand(sources.Ctf, "CTF", [".star", ".txt"]);
            ctf = MicrographCtfMatcher.Assign(index, ctfFiles.SelectMany(f => MicrographCtfReader.Read(f, log)));
            if (ctf.Unmatched.Count > 0)
                log.Warning("{Count} CTF estimates name no given micrograph, e.g. {First}", ctf.Unmatched.Count, ctf.Unmatched[0]);
        }
        var inputs = new List<MicrographInput>(match.Matched.Count);
        var withoutCtf = new List<string>();
        foreach (var m in match.Matched)
        {
            MicrographCtf? c = null;
            if (ctf is not null && !ctf.ByMicrograph.TryGetValue(m.MicrographPath, out c)) { withoutCtf.Add(m.MicrographPath); continue; }
            inputs.Add(new MicrographInput(m.MicrographPath, m.Picks, c));
        }
        if (withoutCtf.Count > 0)
            log.Warning("{Count} micrographs with picks have no CTF estimate and are skipped: {Names}", withoutCtf.Count, string.Join(", ", withoutCtf.Take(10)));
        return new ExtractionPlan(options, inputs, match, withoutCtf, ctf?.Unmatched ?? [], hasCtf);
    }

    /// <summary>The optics of a micrograph's extracted particles: Å/px scaled by the down-sampling, the output box, and the CTF's microscope.</summary>
    public static OpticsSettings OpticsOf(MicrographInput m, double micrographPixelSize, ExtractOptions o)
    {
        double apix = micrographPixelSize * o.Box / o.FinalBox;
        return m.Ctf is { } c
            ? new OpticsSettings(apix, o.FinalBox, c.Ctf.VoltageKv, c.Ctf.SphericalAberrationMm, c.Ctf.AmplitudeContrast)
            : new OpticsSettings(apix, o.FinalBox, null, null, null);
    }

    /// <summary>
    /// The distinct optics of the planned micrographs' particles, in micrograph order: one optics group each. Reads
    /// micrograph headers only where neither --apix nor the CTF file gives the pixel size; an unreadable micrograph
    /// is passed over here (extraction reports it).
    /// </summary>
    public IReadOnlyList<OpticsSettings> OpticsGroups()
    {
        var groups = new List<OpticsSettings>();
        foreach (var m in Micrographs)
        {
            double apix;
            try
            {
                apix = PixelSizeOf(m, Options.PixelSize is null && m.Ctf?.PixelSize is null ? MrcReader.ReadHeader(m.Path) : null);
            }
            catch (CryoFlowDataException)
            {
                continue;
            }
            var o = OpticsOf(m, apix, Options);
            if (!groups.Contains(o)) groups.Add(o);
        }
        return groups;
    }

    /// <summary>Micrograph Å/px: --apix, else the CTF file's, else the MRC header's.</summary>
    private double PixelSizeOf(MicrographInput m, MrcHeader? header) =>
        Options.PixelSize ?? m.Ctf?.PixelSize ?? header?.VoxelSizeX
        ?? throw new MrcFormatException("no pixel size: the CTF file and the micrograph's header give none; give --apix",
            new DataLocation(FilePath: m.Path, Field: "CELLA/MX"));

    /// <summary>Reads the micrograph's header and its picks and places every box: those crossing an edge are left out.</summary>
    /// <exception cref="CryoFlowDataException">an unreadable micrograph header or coordinate file, a stack of images, no pixel size</exception>
    public PlannedMicrograph Locate(MicrographInput m)
    {
        var header = MrcReader.ReadHeader(m.Path);
        if (header.Nz != 1)
            throw new MrcFormatException("a micrograph is one image; this file has several sections (a movie? extract from the summed micrograph)",
                new DataLocation(FilePath: m.Path, Field: "NZ", Expected: "1", Found: header.Nz.ToString(CultureInfo.InvariantCulture)));
        double apix = PixelSizeOf(m, header);
        var picks = m.Picks.Load();
        int box = Options.Box, w = header.Nx, h = header.Ny;
        var particles = new List<PlannedParticle>(picks.Picks.Count);
        foreach (var p in picks.Picks)
        {
            // RELION truncates the coordinate to a pixel and puts it at the box centre, pixel D/2 (src/preprocessing.cpp)
            long x0 = (long)p.X - box / 2, y0 = (long)p.Y - box / 2;
            if (x0 >= 0 && y0 >= 0 && x0 + box <= w && y0 + box <= h) particles.Add(new PlannedParticle(p.X, p.Y, (int)x0, (int)y0));
        }
        return new PlannedMicrograph(m, w, h, apix, particles, picks.Picks.Count - particles.Count, picks.BelowMinScore);
    }

    /// <summary>Micrograph paths from files, folders, patterns, or micrograph STAR files (rlnMicrographName).</summary>
    private static IReadOnlyList<string> MicrographPaths(IReadOnlyList<string> sources)
    {
        var paths = new List<string>();
        foreach (string file in InputFiles.Expand(sources, "micrographs", [".mrc"]))
        {
            if (!file.EndsWith(".star", StringComparison.OrdinalIgnoreCase)) { paths.Add(file); continue; }
            var doc = StarReader.ReadFile(file);
            var t = (doc.Blocks.FirstOrDefault(b => b.Loop is { } l && l.Contains(RelionLabels.MicrographName))
                ?? throw new StarFormatException("no loop lists _rlnMicrographName", new DataLocation(FilePath: file, Field: RelionLabels.MicrographName))).Loop!;
            int c = t.RequireColumn(RelionLabels.MicrographName);
            for (int r = 0; r < t.RowCount; r++) paths.Add(RelionPaths.Resolve(file, t.GetString(r, c), t.Where(r, c)));
        }
        if (paths.Count == 0) throw new CryoFlowDataException("no micrographs", new DataLocation(Field: "micrographs", Expected: "at least one"));
        return paths;
    }

    /// <summary>One paragraph for the log and the console.</summary>
    public string Describe()
    {
        var parts = new List<string> { Match.Describe() };
        if (MicrographsWithoutCtf.Count > 0) parts.Add($"{MicrographsWithoutCtf.Count} micrographs without a CTF estimate (skipped): {string.Join(", ", MicrographsWithoutCtf.Take(10))}");
        if (CtfWithoutMicrograph.Count > 0) parts.Add($"{CtfWithoutMicrograph.Count} CTF estimates naming no given micrograph");
        return string.Join("; ", parts);
    }
}
