using System.CommandLine;
using CryoFlow.Pipeline.Stages.Extract;
using Serilog;

namespace CryoFlow.Cli.Commands;

/// <summary>What to extract and how: the inputs and settings of `cryoflow extract`, and of `cryoflow reconstruct` from picks.</summary>
/// <param name="ExtractTo">write the stacks and particles.star there first, then reconstruct from them; null: extract as particles are read</param>
public sealed record ExtractionRequest(ExtractionSources Sources, ExtractOptions Options, string? ExtractTo = null)
{
    /// <summary>The particle file a reconstruction in <paramref name="run"/> reads: the written particles.star with
    /// <see cref="ExtractTo"/>, else RUN/extraction.json (particles cut as they are read).</summary>
    public string Prepare(string run, ILogger log)
    {
        if (ExtractTo is not null)
        {
            var plan = ExtractionPlan.Create(Sources, Options, log);
            return ExtractJob.Run(plan, ExtractTo, log).StarPath;
        }
        string manifest = Path.Combine(run, ExtractionManifest.FileName);
        ExtractionManifest.Write(manifest, Sources, Options);
        log.Information("Particles are cut from the micrographs as they are read ({Manifest}); no stack is written", manifest);
        return manifest;
    }
}

/// <summary>The command-line options that describe an extraction, shared by `extract` and `reconstruct`.</summary>
internal sealed class ExtractArguments
{
    private readonly Option<string[]> _micrographs = new("--micrographs") { Description = "Micrographs: files, a folder, a quoted pattern ('Micrographs/*.mrc'), or a STAR file listing rlnMicrographName.", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string[]> _coords = new("--coords") { Description = "Picks: RELION .star, crYOLO .box/.cbox, EMAN .box, EMAN2 .json or Topaz .txt; files, a folder or a quoted pattern. Matched to micrographs by name.", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string[]> _ctf = new("--ctf") { Description = "CTF: a RELION micrographs_ctf.star (3.0 or 3.1+) or CTFFIND4 .txt files; leave out for no CTF.", AllowMultipleArgumentsPerToken = true };
    private readonly Option<int?> _box = new("--box") { Description = "Box cut from each micrograph, px (even)." };
    private readonly Option<double?> _bin = new("--bin") { Description = "Fourier down-sampling factor: output box = box / bin (even)." };
    private readonly Option<int?> _outBox = new("--out-box") { Description = "Fourier down-sampling to this box, px (instead of --bin)." };
    private readonly Option<bool> _noInvert = new("--no-invert") { Description = "Keep the micrographs' contrast (by default it is inverted: raw micrographs have dark protein)." };
    private readonly Option<bool> _noNorm = new("--no-norm") { Description = "Do not normalise the background to mean 0, sd 1." };
    private readonly Option<bool> _noRamp = new("--no-ramp") { Description = "Normalise without subtracting a fitted plane (relion_preprocess --no_ramp)." };
    private readonly Option<int?> _bgRadius = new("--bg-radius") { Description = "Background radius in px of the output box (default: 75% of half the output box, as RELION)." };
    private readonly Option<double> _scale = new("--coordinate-scale") { Description = "Multiply coordinates by this (Topaz picks made on a downsampled image).", DefaultValueFactory = _ => 1 };
    private readonly Option<double?> _minScore = new("--min-score") { Description = "Keep picks with a score (figure of merit, confidence) of at least this." };
    private readonly Option<double?> _apix = new("--micrograph-apix") { Description = "Micrograph pixel size in Å, overriding the CTF file and the MRC header." };

    public IEnumerable<Option> All => [_micrographs, _coords, _ctf, _box, _bin, _outBox, _noInvert, _noNorm, _noRamp, _bgRadius, _scale, _minScore, _apix];

    /// <summary>Whether any micrograph was given (a reconstruction from picks).</summary>
    public bool Given(ParseResult pr) => pr.GetValue(_micrographs) is { Length: > 0 };

    /// <summary>The request, or an <see cref="ArgumentException"/> naming what is missing or out of range.</summary>
    public ExtractionRequest Read(ParseResult pr, int threads, string? extractTo = null)
    {
        string[] micrographs = pr.GetValue(_micrographs) ?? [], coords = pr.GetValue(_coords) ?? [];
        if (micrographs.Length == 0) throw new ArgumentException("--micrographs is required");
        if (coords.Length == 0) throw new ArgumentException("--coords is required with --micrographs");
        int box = pr.GetValue(_box) ?? throw new ArgumentException("--box is required with --micrographs");
        if (pr.GetValue(_bin) is not null && pr.GetValue(_outBox) is not null) throw new ArgumentException("give --bin or --out-box, not both");
        int? outBox = pr.GetValue(_outBox) ?? (pr.GetValue(_bin) is double bin ? ExtractOptions.BinnedBox(box, bin) : null);
        var options = new ExtractOptions
        {
            Box = box,
            OutputBox = outBox,
            InvertContrast = !pr.GetValue(_noInvert),
            Normalise = !pr.GetValue(_noNorm),
            SubtractRamp = !pr.GetValue(_noRamp),
            BackgroundRadius = pr.GetValue(_bgRadius),
            CoordinateScale = pr.GetValue(_scale),
            MinScore = pr.GetValue(_minScore),
            PixelSize = pr.GetValue(_apix),
            Threads = threads,
        };
        options.Validate();
        return new ExtractionRequest(new ExtractionSources(micrographs, coords, pr.GetValue(_ctf) ?? []), options, extractTo);
    }
}
