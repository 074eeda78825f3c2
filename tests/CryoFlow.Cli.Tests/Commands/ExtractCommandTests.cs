using CryoFlow.Cli.Commands;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.TestSupport;

namespace CryoFlow.Cli.Tests.Commands;

/// <summary>`cryoflow simulate --micrographs`, `cryoflow extract` and `cryoflow reconstruct --micrographs` end to end.</summary>
public class ExtractCommandTests
{
    /// <summary>2 micrographs of 256 px with 5 particles each (box 32, 6 Å/px).</summary>
    private static string Session(TempDir dir)
    {
        var r = CliRunner.Run("simulate", "--volume", TestPaths.RealData("volumes/hand-vol.mrc"), "--apix", "3", "--box", "32", "--micrographs", "2",
            "--micrograph-size", "256", "--per-micrograph", "5", "--snr", "1", "--threads", "2", "--out", dir.File("session"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("2 micrographs of 256 px with 10 particles", r.Out);
        return dir.File("session");
    }

    private static string[] Inputs(string session) =>
        ["--micrographs", Path.Combine(session, "Micrographs", "*.mrc"), "--coords", Path.Combine(session, "picks"), "--ctf", Path.Combine(session, "micrographs_ctf.star")];

    [Fact]
    public void ExtractWritesStacksAndAStarFromAQuotedPattern()
    {
        using var dir = new TempDir();
        string session = Session(dir);
        var r = CliRunner.Run(["extract", .. Inputs(session), "--box", "32", "--bin", "2", "--threads", "2", "--out", dir.File("out")]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("10 particles from 2 micrographs", r.Out);
        var table = ParticleTable.Read(dir.File("out/particles.star"));
        Assert.Equal((10, 12.0), (table.Count, table[0].PixelSizeAngst!.Value));
        Assert.Equal(16, MrcReader.ReadHeader(dir.File("out/mic_001_particles.mrcs")).Nx);
        Assert.Contains("cryoflow extract", File.ReadAllText(dir.File("out/extract.log")));
    }

    [Fact]
    public void ReconstructFromPicksCutsParticlesAsItReadsThem()
    {
        using var dir = new TempDir();
        string session = Session(dir);
        var r = CliRunner.Run(["reconstruct", .. Inputs(session), "--box", "32", "--config", Path.Combine(TestPaths.RepoRoot, "configs", "quick.json"),
            "--max-iterations", "3", "--threads", "2", "--set", "data.testSetSize=2", "--out", dir.File("run")]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(dir.File("run/map.mrc")));
        Assert.True(File.Exists(dir.File("run/extraction.json")));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.mrcs", SearchOption.AllDirectories));
        Assert.Equal(10, ParticleTable.Read(dir.File("run/particles.star")).Count);
    }

    [Fact]
    public void ReconstructWithExtractToWritesTheStacksFirst()
    {
        using var dir = new TempDir();
        string session = Session(dir);
        var r = CliRunner.Run(["reconstruct", .. Inputs(session), "--box", "32", "--extract-to", dir.File("particles"),
            "--config", Path.Combine(TestPaths.RepoRoot, "configs", "quick.json"), "--max-iterations", "2", "--threads", "2", "--set", "data.testSetSize=2", "--out", dir.File("run")]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(dir.File("particles/mic_000_particles.mrcs")));
        Assert.False(File.Exists(dir.File("run/extraction.json")));
        Assert.True(File.Exists(dir.File("run/map.mrc")));
    }

    [Theory]
    [InlineData("reconstruct", "--out", "run")]
    [InlineData("reconstruct", "p.star", "--micrographs", "m.mrc", "--coords", "c.box", "--box", "32", "--out", "run")]
    [InlineData("reconstruct", "--micrographs", "m.mrc", "--coords", "c.box", "--out", "run")]
    [InlineData("extract", "--micrographs", "m.mrc", "--box", "32", "--out", "out")]
    [InlineData("extract", "--micrographs", "m.mrc", "--coords", "c.box", "--box", "32", "--bin", "3", "--out", "out")]
    [InlineData("extract", "--micrographs", "m.mrc", "--coords", "c.box", "--box", "31", "--out", "out")]
    public void MissingOrClashingArgumentsAreUsageErrors(params string[] args)
    {
        using var dir = new TempDir();
        var r = CliRunner.Run([.. args.Select(a => a is "run" or "out" ? dir.File(a) : a)]);
        Assert.True(r.ExitCode == 1, r.ToString());
    }

    [Fact]
    public void ABadCoordinateLineIsABadInputNamingFileAndLine()
    {
        using var dir = new TempDir();
        string session = Session(dir);
        File.WriteAllText(Path.Combine(session, "picks", "mic_000_autopick.star"), "data_\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n10 20\n30 forty\n");
        var r = CliRunner.Run(["extract", .. Inputs(session), "--box", "32", "--out", dir.File("out")]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("mic_000_autopick.star", r.Err);
        Assert.Contains("line 6", r.Err);
        Assert.Contains("rlnCoordinateY", r.Err);
    }

    [Fact]
    public void WatchModeExtractsWhatIsThereAndStopsWhenIdle()
    {
        using var dir = new TempDir();
        string session = Session(dir);
        var r = CliRunner.Run(["extract", "--micrographs", Path.Combine(session, "Micrographs", "*.mrc"), "--coords", Path.Combine(session, "picks"),
            "--box", "32", "--watch", "--poll", "0.2s", "--watch-idle", "1s", "--out", dir.File("live")]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("10 particles from 2 micrographs (+10; 0 micrographs waiting)", r.Out);
        Assert.Contains("stopped (no new micrograph", r.Out);
        Assert.Equal(10, ParticleTable.Read(dir.File("live/particles.star")).Count);
        var bad = CliRunner.Run(["extract", "--micrographs", "m.mrc", "--coords", "c", "--box", "32", "--watch", "--watch-until", "soon", "--out", dir.File("x")]);
        Assert.Equal(1, bad.ExitCode);
    }

    [Fact]
    public void ReconstructWatchRunsOnWhatArrivesAndItsFolderIsNotResumed()
    {
        using var dir = new TempDir();
        string session = Session(dir);
        string[] run = ["reconstruct", .. Inputs(session), "--box", "32", "--config", Path.Combine(TestPaths.RepoRoot, "configs", "quick.json"),
            "--threads", "2", "--set", "data.testSetSize=2", "--set", "data.minibatchSize=4", "--out", dir.File("run")];
        var r = CliRunner.Run([.. run, "--watch", "--poll", "0.05s", "--watch-idle", "1h", "--max-iterations", "4"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(10, ParticleTable.Read(dir.File("run/particles.star")).Count);
        string log = File.ReadAllText(dir.File("run/run.log"));
        Assert.Contains("10 particles from 2 micrographs so far", log);
        Assert.Contains("\"particles\":10", File.ReadAllText(dir.File("run/metrics.jsonl")));

        // a live run's folder is not resumed, and --watch does not take over a folder with a checkpoint
        var resume = CliRunner.Run("reconstruct", "--out", dir.File("run"), "--max-iterations", "8");
        Assert.True(resume.ExitCode == 2, resume.ToString());
        Assert.Contains("cannot be resumed", resume.Err);
        var again = CliRunner.Run([.. run, "--watch", "--max-iterations", "4"]);
        Assert.True(again.ExitCode == 1, again.ToString());
        Assert.Contains("--restart", again.Err);
        Assert.Equal(log, File.ReadAllText(dir.File("run/run.log")));
        var noPicks = CliRunner.Run("reconstruct", "p.star", "--watch", "--out", dir.File("other"));
        Assert.Equal(1, noPicks.ExitCode);
    }

    [Fact]
    public void TheShippedFromPicksRecipeParses()
    {
        var recipe = RunRecipeCommand.Read(Path.Combine(TestPaths.RepoRoot, "pipelines", "from-picks.json"));
        Assert.Null(recipe.Input);
        Assert.NotNull(recipe.Picks);
        Assert.EndsWith(Path.Combine("Micrographs", "*.mrc"), recipe.Picks!.Sources.Micrographs[0]);
        Assert.Equal(64, recipe.Picks.Options.Box);
        Assert.EndsWith(Path.Combine("configs", "quick.json"), recipe.Config);
    }

    [Fact]
    public void FromPicksRecipeRunsExtractionAndReconstruction()
    {
        using var dir = new TempDir();
        Session(dir);
        File.WriteAllText(dir.File("recipe.json"), $$"""
            {
              "pipeline": "from-picks",
              "micrographs": "session/Micrographs/*.mrc",
              "coords": ["session/picks"],
              "ctf": "session/micrographs_ctf.star",
              "extract": { "box": 32, "bgRadius": 12 },
              "config": "{{Path.Combine(TestPaths.RepoRoot, "configs", "quick.json").Replace("\\", "/")}}",
              "set": { "run.maxIterations": 2, "data.testSetSize": 2, "run.threads": 2 },
              "output": "run"
            }
            """);
        var r = CliRunner.Run("run", dir.File("recipe.json"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("\"backgroundRadius\": 12", File.ReadAllText(dir.File("run/extraction.json")));
        Assert.True(File.Exists(dir.File("run/map.mrc")));

        File.WriteAllText(dir.File("bad.json"), """{ "pipeline": "from-picks", "micrographs": "m", "coords": "c", "extract": { "box": 32, "binn": 2 }, "output": "run" }""");
        var bad = CliRunner.Run("run", dir.File("bad.json"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("extract.binn", bad.Err);
    }
}
