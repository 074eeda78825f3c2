using System.Text.RegularExpressions;
using CryoFlow.Formats.Errors;
using CryoFlow.Pipeline.Report;
using CryoFlow.TestSupport;

namespace CryoFlow.Pipeline.Tests.Report;

public class RunReportTests
{
    [Fact]
    public void ABox128RunOfFiveThousandIterationsGivesAReportUnderFiveMegabytes()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        // noise maps: the worst case for PNG compression
        SyntheticRun.Write(run, 128, 5000, 21, k => SyntheticRun.Noise(128, k + 10), particles: 20_000);
        var result = RunReport.Write(run);

        Assert.Equal(Path.Combine(run, "report.html"), result.Path);
        long size = new FileInfo(result.Path).Length;
        Assert.Equal(result.Bytes, size);
        TestContext.Current.TestOutputHelper?.WriteLine($"box 128, 5,000 iterations, 20,000 particles: report {size:N0} bytes");
        Assert.True(size < 5 * 1024 * 1024, $"report is {size:N0} bytes");
        string html = File.ReadAllText(result.Path);
        // the long series are thinned to at most 500 points; the held-out set (every 25th iteration) has 200
        Assert.All(SyntheticRun.Lines(html, "objective-iteration"), l => Assert.True(l.Points <= 500 && l.Points == l.Pairs));
        Assert.Contains(SyntheticRun.Lines(html, "objective-time"), l => l is { Series: "objective", SourcePoints: 5000 });
        Assert.Contains(SyntheticRun.Lines(html, "objective-time"), l => l is { Series: "held-out NLL", SourcePoints: 200, Points: 200 });
        // the final map and six frames of the filmstrip, six views each
        Assert.Equal(6 + 6 * 6, Regex.Count(html, "<img class=\"view\""));
    }

    [Fact]
    public void TheBrightestPixelOfEachViewIsWhereTheMapPeaksInThatView()
    {
        const int d = 32, c = d / 2;
        using var dir = new TempDir();
        string run = dir.File("run");
        var map = SyntheticRun.Blobs(d);
        SyntheticRun.WriteMap(Path.Combine(run, "map.mrc"), map, d);
        string html = File.ReadAllText(RunReport.Write(run).Path);

        float Voxel(int x, int y, int z) => map[(z * d + y) * d + x];
        var views = new (string Title, Func<int, int, float> Value)[]
        {
            ("XY section (z = D/2)", (u, v) => Voxel(u, v, c)),
            ("XZ section (y = D/2)", (u, v) => Voxel(u, c, v)),
            ("YZ section (x = D/2)", (u, v) => Voxel(c, u, v)),
            ("projection along z", (u, v) => Enumerable.Range(0, d).Sum(w => Voxel(u, v, w))),
            ("projection along y", (u, v) => Enumerable.Range(0, d).Sum(w => Voxel(u, w, v))),
            ("projection along x", (u, v) => Enumerable.Range(0, d).Sum(w => Voxel(w, u, v))),
        };
        foreach (var (title, value) in views)
        {
            var png = PngTestDecoder.DecodeDataUri(SyntheticRun.ImageSource(html, "final map: " + title));
            Assert.Equal((d, d), (png.Width, png.Height));
            int brightest = Array.IndexOf(png.Pixels, png.Pixels.Max());
            var (u, v) = Enumerable.Range(0, d * d).Select(i => (U: i % d, V: i / d)).MaxBy(p => value(p.U, p.V));
            // the image is drawn with the second axis pointing up: row 0 is v = D - 1
            Assert.True((brightest % d, d - 1 - brightest / d) == (u, v), $"{title}: brightest pixel at column {brightest % d}, row {brightest / d}; map peak at u {u}, v {v}");
            Assert.Equal(0, png.Pixels.Min());
        }
    }

    [Fact]
    public void EverySectionIsFilledFromTheRunFolder()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        SyntheticRun.Write(run, 16, 300, 25, k => SyntheticRun.Blobs(16));
        string html = File.ReadAllText(RunReport.Write(run).Path);

        Assert.Contains("final map", html);
        Assert.DoesNotContain("in progress", html);
        // filmstrip: six of the 25 maps (every 12.5 iterations), evenly spaced from the random start to the last: maps 0, 5, 10, 14, 19, 24
        var frames = Regex.Matches(html, "<div class=\"it\">([^<]*)</div>").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["random start", "iteration 62", "iteration 125", "iteration 175", "iteration 237", "iteration 300"], frames);
        // convergence: both abscissae for every chart; the quadrature split by factor once sampling starts
        foreach (string id in new[] { "objective", "rremse", "frequency", "step", "quadrature", "speed", "memory" })
            foreach (string x in new[] { "iteration", "time" })
                Assert.NotEmpty(SyntheticRun.Lines(html, $"{id}-{x}"));
        Assert.Equal(["all", "directions", "in-plane", "shifts"], SyntheticRun.Lines(html, "quadrature-iteration").Select(l => l.Series));
        Assert.All(SyntheticRun.Lines(html, "frequency-iteration"), l => Assert.Equal(300, l.Points));
        // poses: the sky map and the probability histogram of all 2000 particles
        Assert.Contains("<img class=\"sky\"", html);
        Assert.Matches("data-bins=\"50\" data-total=\"2000\"", html);
        // the run: version, command line, input, config; rejected particles; warnings, escaped
        Assert.Contains("9.8.7", html);
        Assert.Contains("cryoflow reconstruct particles.star --out run", html);
        Assert.Contains("5000 particles, box 128, 1.5 Å/px", html);
        Assert.Contains("&quot;seed&quot;: 1", html);
        Assert.Contains("missing.mrcs: not found", html);
        Assert.Contains("2 particles were set aside", html);
        string warnings = Regex.Match(html, "<section id=\"warnings\">.*?</section>", RegexOptions.Singleline).Value;
        Assert.Contains("2 WRN/ERR lines", warnings);
        Assert.Contains("WRN Rejected 000007@particles.mrcs", warnings);
        Assert.Contains("ERR Something &lt;failed&gt; &amp; was retried", warnings);
        Assert.DoesNotContain("the stack trace line", warnings);
        // links to the run's files, relative to the page
        foreach (string file in new[] { "map.mrc", "particles.star", "metrics.jsonl", "run.log", "config.json", "rejected.star" })
            Assert.Contains($"<a href=\"{file}\">{file}</a>", html);
        // no FSC without a reference
        Assert.Contains("No reference map was given", html);
        Assert.DoesNotContain("data-chart=\"fsc\"", html);
        Assert.Empty(Directory.EnumerateFiles(run, "*.tmp"));
    }

    [Fact]
    public void AReferenceAddsTheAlignedFscWithOnePointPerShell()
    {
        const int d = 32;
        using var dir = new TempDir();
        string run = dir.File("run");
        var map = SyntheticRun.Blobs(d);
        SyntheticRun.WriteMap(Path.Combine(run, "map.mrc"), map, d);
        SyntheticRun.WriteMap(dir.File("truth.mrc"), map, d);
        var result = RunReport.Write(run, new RunReportOptions { ReferencePath = dir.File("truth.mrc") });

        Assert.NotNull(result.Comparison);
        Assert.Equal(2 * 2.0, result.Comparison.Fsc.ResolutionAt(0.5), 6);
        string html = File.ReadAllText(result.Path);
        var fsc = Assert.Single(SyntheticRun.Lines(html, "fsc"));
        Assert.Equal((d / 2, d / 2), (fsc.Points, fsc.Pairs));
        Assert.Contains("data-mark=\"0.5\"", html);
        Assert.Contains("data-mark=\"0.143\"", html);
        Assert.Contains("the original hand of the map matched", html);
        Assert.Contains("reference: XY section (z = D/2)", html);
    }

    [Fact]
    public void AReferenceOfAnotherBoxIsRefused()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        SyntheticRun.WriteMap(Path.Combine(run, "map.mrc"), SyntheticRun.Blobs(16), 16);
        SyntheticRun.WriteMap(dir.File("truth.mrc"), SyntheticRun.Blobs(32), 32);
        var e = Assert.ThrowsAny<CryoFlowDataException>(() => RunReport.Write(run, new RunReportOptions { ReferencePath = dir.File("truth.mrc") }));
        Assert.Contains("different boxes", e.Message);
        Assert.False(File.Exists(Path.Combine(run, "report.html")));
    }

    [Fact]
    public void ARunInProgressShowsItsLatestMapAndSaysWhatIsMissing()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        SyntheticRun.WriteMap(Path.Combine(run, "iterations", "map_000000.mrc"), SyntheticRun.Noise(16, 1), 16);
        SyntheticRun.WriteMap(Path.Combine(run, "iterations", "map_000050.mrc"), SyntheticRun.Blobs(16), 16);
        SyntheticRun.WriteMetrics(Path.Combine(run, "metrics.jsonl"), 60);
        string html = File.ReadAllText(RunReport.Write(run).Path);

        Assert.Contains("in progress: latest map iterations/map_000050.mrc", html);
        Assert.Contains("not written yet: map.mrc, particles.star, run.log", html);
        Assert.Contains("No particles.star yet.", html);
        Assert.Contains("No log (run.log).", html);
        Assert.Equal(60, SyntheticRun.Lines(html, "objective-iteration").Single(l => l.Series == "objective").Points);
    }

    [Fact]
    public void MetricsOfAnEarlierRunInTheSameFolderAreLeftOut()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        Directory.CreateDirectory(run);
        SyntheticRun.WriteMetrics(Path.Combine(run, "metrics.jsonl"), 70);
        SyntheticRun.WriteMetrics(Path.Combine(run, "metrics.jsonl"), 30); // appended, from iteration 1 again
        string html = File.ReadAllText(RunReport.Write(run).Path);
        Assert.Contains("metrics.jsonl starts with 70 lines of an earlier run in this folder; only the latest run&#39;s 30 are shown.", html);
        Assert.Equal(30, SyntheticRun.Lines(html, "objective-iteration").Single(l => l.Series == "objective").Points);
    }

    [Fact]
    public void AConstantMapIsCalledOut()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        SyntheticRun.WriteMap(Path.Combine(run, "map.mrc"), new float[16 * 16 * 16], 16);
        SyntheticRun.WriteMap(Path.Combine(run, "iterations", "map_000000.mrc"), SyntheticRun.Blobs(16), 16);
        SyntheticRun.WriteMap(Path.Combine(run, "iterations", "map_000010.mrc"), new float[16 * 16 * 16], 16);
        string html = File.ReadAllText(RunReport.Write(run).Path);
        Assert.Contains("The map is constant (every voxel 0)", html);
        Assert.Contains("iteration 10 (constant 0)", html);
        Assert.DoesNotContain("random start (constant", html);
    }

    [Fact]
    public void AnUnreadableFileIsNotedAndTheRestOfThePageIsWritten()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        SyntheticRun.Write(run, 16, 50, 2, _ => SyntheticRun.Blobs(16));
        File.WriteAllText(Path.Combine(run, "particles.star"), "data_particles\nloop_\n_rlnAngleRot #1\n_rlnAngleRot #2\n1 2\n");
        string html = File.ReadAllText(RunReport.Write(run).Path);

        Assert.Contains("particles.star could not be read", html);
        Assert.Contains("No particles.star yet.", html);
        Assert.NotEmpty(SyntheticRun.Lines(html, "objective-iteration"));
    }

    [Fact]
    public void LinksAreRelativeToWhereThePageIsWritten()
    {
        using var dir = new TempDir();
        string run = dir.File("my run");
        SyntheticRun.Write(run, 16, 20, 2, _ => SyntheticRun.Blobs(16));
        string html = File.ReadAllText(RunReport.Write(run, new RunReportOptions { OutputPath = dir.File("pages/report.html") }).Path);
        Assert.Contains("<a href=\"../my%20run/map.mrc\">map.mrc</a>", html);
    }

    [Fact]
    public void AMissingRunFolderIsAnError() =>
        Assert.Throws<DirectoryNotFoundException>(() => RunReport.Write(Path.Combine(Path.GetTempPath(), "cryoflow-no-such-run-" + Guid.NewGuid().ToString("N"))));
}
