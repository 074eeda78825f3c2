using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Stages.Extract;
using CryoFlow.Pipeline.Tests.Stages.Extract;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

/// <summary>Micrographs, picks and CTF reconstructed in one pipeline: particles cut as they are read, no stack written.</summary>
public class ReconstructFromPicksTests
{
    [Fact]
    public void MapFromMicrographsImprovesOverTheRandomStartAgainstTheTruth()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"), micrographs: 10, perMicrograph: 40, snr: 0.2, size: 512, seed: 5);
        string run = dir.File("run");
        Directory.CreateDirectory(run);
        string manifest = Path.Combine(run, ExtractionManifest.FileName);
        ExtractionManifest.Write(manifest, Session.Sources(sim), new ExtractOptions { Box = 32 });

        var result = ReconstructJob.Run(new ReconstructRequest(manifest, run, ReconstructJobTests.Quick(150)), Logger.None, cancel: TestContext.Current.CancellationToken);

        Assert.Equal(0, result.Rejected);
        double start = ReconstructJobTests.AlignedMeanFsc(sim.TruthPath, Path.Combine(run, "iterations", "map_000000.mrc"), 8);
        double final = ReconstructJobTests.AlignedMeanFsc(sim.TruthPath, result.MapPath, 8);
        Assert.True(final > start + 0.15 && final > 0.6, $"mean FSC over shells 1-8: start {start:F3}, final {final:F3}");
        // poses for every particle, with the micrograph and coordinate it was cut from; no stack was written
        var poses = StarDocument.Read(result.ParticlesStarPath).Get("particles").RequireLoop();
        Assert.Equal(400, poses.RowCount);
        Assert.EndsWith("mic_009.mrc", poses.GetString(399, RelionLabels.MicrographName));
        Assert.True(poses.Contains(RelionLabels.AngleRot) && poses.Contains(RelionLabels.CoordinateX));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.mrcs", SearchOption.AllDirectories));
    }

    [Fact]
    public void ManifestRoundTripsAndRefusesWhatItDoesNotKnow()
    {
        using var dir = new TempDir();
        var sources = new ExtractionSources(["Micrographs/*.mrc"], [dir.File("picks")], []);
        var options = new ExtractOptions { Box = 64, OutputBox = 32, InvertContrast = false, BackgroundRadius = 10, MinScore = 0.5, CoordinateScale = 4 };
        ExtractionManifest.Write(dir.File("m.json"), sources, options);
        var (s, o) = ExtractionManifest.Read(dir.File("m.json"));
        Assert.Equal(options, o);
        Assert.Equal(Path.GetFullPath("Micrographs/*.mrc"), s.Micrographs[0]);
        Assert.Empty(s.Ctf);

        File.WriteAllText(dir.File("bad.json"), File.ReadAllText(dir.File("m.json")).Replace("\"box\"", "\"boxx\""));
        var e = Assert.ThrowsAny<Formats.Errors.CryoFlowDataException>(() => ExtractionManifest.Read(dir.File("bad.json")));
        Assert.Contains("boxx", e.Message);
        File.WriteAllText(dir.File("other.json"), """{ "kind": "something", "version": 1, "micrographs": [], "coordinates": [] }""");
        Assert.ThrowsAny<Formats.Errors.CryoFlowDataException>(() => ExtractionManifest.Read(dir.File("other.json")));
    }
}
