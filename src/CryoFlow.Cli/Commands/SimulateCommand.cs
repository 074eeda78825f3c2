using System.CommandLine;
using System.Globalization;
using CryoFlow.Cli.Assets;
using CryoFlow.Cli.Logging;
using CryoFlow.Pipeline.Simulation;

namespace CryoFlow.Cli.Commands;

/// <summary>`cryoflow simulate`: a dataset with known truth (DESIGN.md, issue 3).</summary>
public static class SimulateCommand
{
    public static Command Create(ConsoleIo io)
    {
        var volume = new Option<string>("--volume") { Description = $"Input map (.mrc); '{BundledVolumes.Hand}' (the default) is the bundled 64^3 chiral hand.", DefaultValueFactory = _ => BundledVolumes.Hand };
        var apix = new Option<double?>("--apix") { Description = "Å per voxel the volume is taken to have, overriding its header; the output pixel size when --box is not given." };
        var count = new Option<long>("--count") { Description = "Number of particles.", DefaultValueFactory = _ => 1000 };
        var snr = new Option<string>("--snr") { Description = "Signal-to-noise ratio: mean variance of the noiseless images over the box / noise variance; 'inf' for no noise.", DefaultValueFactory = _ => "0.1" };
        var defocus = new Option<string>("--defocus") { Description = "Defocus range in Å, MIN-MAX (uniform; positive = under-focus).", DefaultValueFactory = _ => "10000-30000" };
        var astig = new Option<double>("--astigmatism") { Description = "Å: DefocusV = DefocusU - uniform(0, this), at a uniform angle.", DefaultValueFactory = _ => 0 };
        var shiftSigma = new Option<double>("--shift-sigma") { Description = "Standard deviation of the origin shifts, px per axis.", DefaultValueFactory = _ => 2 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var box = new Option<int?>("--box") { Description = "Resample the volume to this box (same physical size; pixel size becomes apix * D / box)." };
        var voltage = new Option<double>("--voltage") { Description = "kV.", DefaultValueFactory = _ => 300 };
        var cs = new Option<double>("--cs") { Description = "Spherical aberration, mm.", DefaultValueFactory = _ => 2.7 };
        var q0 = new Option<double>("--amplitude-contrast") { DefaultValueFactory = _ => 0.1 };
        var bfactor = new Option<double>("--bfactor") { Description = "CTF envelope B-factor, Å^2.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Rendering threads (0: all cores).", DefaultValueFactory = _ => 0 };
        var micrographs = new Option<int?>("--micrographs") { Description = "Simulate a collection session instead: this many micrographs with particles at known places, picks (picks/*_autopick.star) and CTF (micrographs_ctf.star), for `cryoflow extract`." };
        var micrographSize = new Option<int>("--micrograph-size") { Description = "Edge of the square micrographs, px.", DefaultValueFactory = _ => 1024 };
        var perMicrograph = new Option<int>("--per-micrograph") { Description = "Particles on each micrograph.", DefaultValueFactory = _ => 40 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder: particles.mrcs, particles.star (or Micrographs/, picks/, micrographs_ctf.star), truth.mrc, simulate.log.", Required = true };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log progress to the console too." };
        var command = new Command("simulate", "Simulate particle images of a volume at random poses, with CTF, shifts and noise, as a RELION 3.1 dataset with the true poses.")
        {
            volume, apix, count, snr, defocus, astig, shiftSigma, seed, box, voltage, cs, q0, bfactor, threads, micrographs, micrographSize, perMicrograph, output, verbose,
        };
        command.SetAction(pr =>
        {
            string outDir = pr.GetValue(output)!.FullName;
            Directory.CreateDirectory(outDir);
            using var log = LogSetup.Create(pr.GetValue(verbose), Path.Combine(outDir, "simulate.log"));
            log.Information("cryoflow {Version}: {CommandLine}", VersionCommand.Version, io.CommandLine);
            var (dmin, dmax) = ParseRange(pr.GetValue(defocus)!, "--defocus");
            var options = new SimulateOptions(outDir, pr.GetValue(count), pr.GetValue(apix), pr.GetValue(box), ParseSnr(pr.GetValue(snr)!),
                dmin, dmax, pr.GetValue(astig), pr.GetValue(shiftSigma), pr.GetValue(seed), pr.GetValue(voltage), pr.GetValue(cs),
                pr.GetValue(q0), pr.GetValue(bfactor), pr.GetValue(threads));
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                io.Error.WriteLine("cryoflow simulate: " + e.Message);
                return ExitCodes.Usage;
            }
            string volumePath = pr.GetValue(volume)!;
            string? extracted = null;
            if (volumePath == BundledVolumes.Hand)
                volumePath = extracted = BundledVolumes.ExtractHand(Path.Combine(outDir, $".hand-{Guid.NewGuid():N}.mrc"));
            try
            {
                var progress = new ProgressDisplay("simulate", io.Error);
                if (pr.GetValue(micrographs) is int n)
                {
                    var session = new SimulateMicrographsOptions(options, n, pr.GetValue(micrographSize), pr.GetValue(perMicrograph));
                    var (vol, vbox, voxel) = SimulateJob.LoadVolume(volumePath, options.VoxelSize, log);
                    try
                    {
                        session.Validate(options.Box ?? vbox);
                    }
                    catch (ArgumentException e)
                    {
                        io.Error.WriteLine("cryoflow simulate: " + e.Message);
                        return ExitCodes.Usage;
                    }
                    var s = SimulateMicrographsJob.Run(vol, vbox, voxel, session, log, progress.Report);
                    io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{n} micrographs of {session.MicrographSize} px with {s.Particles} particles (box {s.BoxSize}, {s.PixelSize:G6} Å/px) -> {outDir}: Micrographs/, picks/, {SimulateMicrographsJob.CtfStarName} ({s.Seconds:F1} s)"));
                    return ExitCodes.Ok;
                }
                var result = SimulateJob.Run(volumePath, options, log, progress.Report);
                io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{options.Count} particles, box {result.BoxSize}, {result.PixelSize:G6} Å/px -> {result.StarPath} ({result.Seconds:F1} s)"));
                return ExitCodes.Ok;
            }
            finally
            {
                if (extracted is not null) File.Delete(extracted);
            }
        });
        return command;
    }

    internal static double ParseSnr(string text) =>
        text.Equals("inf", StringComparison.OrdinalIgnoreCase) || text.Equals("infinity", StringComparison.OrdinalIgnoreCase)
            ? double.PositiveInfinity
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new ArgumentException($"--snr: '{text}' is not a number or 'inf'");

    internal static (double Min, double Max) ParseRange(string text, string option)
    {
        int dash = text.IndexOf('-', 1);
        string a = dash < 0 ? text : text[..dash], b = dash < 0 ? text : text[(dash + 1)..];
        if (double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double lo)
            && double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out double hi))
            return (lo, hi);
        throw new ArgumentException($"{option}: '{text}' is not MIN-MAX (e.g. 10000-30000)");
    }
}
