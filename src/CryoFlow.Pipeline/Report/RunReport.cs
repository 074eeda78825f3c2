using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Imaging;
using CryoFlow.Pipeline.Evaluation;
using CryoFlow.Pipeline.Output;
using Serilog;
using static CryoFlow.Pipeline.Report.ReportPage;

namespace CryoFlow.Pipeline.Report;

/// <summary>Choices for <see cref="RunReport"/>.</summary>
public sealed record RunReportOptions
{
    /// <summary>Where the page goes; null: RUN/report.html.</summary>
    public string? OutputPath { get; init; }

    /// <summary>A map of the truth (or of another run) to align the run's map to and compute the FSC against.</summary>
    public string? ReferencePath { get; init; }

    /// <summary>The run's log; null: RUN/run.log.</summary>
    public string? LogPath { get; init; }

    /// <summary>How many maps of iterations/ the filmstrip shows, evenly spaced from the random start to the last.</summary>
    public int FilmstripFrames { get; init; } = 6;

    /// <summary>Each chart line is thinned to at most this many points.</summary>
    public int MaxChartPoints { get; init; } = 500;
}

/// <summary>What <see cref="RunReport.Write"/> wrote.</summary>
/// <param name="Path">the page</param>
/// <param name="Bytes">its size</param>
/// <param name="Comparison">the FSC against the reference, when one was given</param>
public sealed record RunReportResult(string Path, long Bytes, MapComparisonResult? Comparison);

/// <summary>
/// `cryoflow report RUN`: one self-contained HTML page about a run folder, written at the end of every
/// reconstruction and on request: the final map's central sections and projections, a filmstrip of the maps along
/// the run, the convergence charts from metrics.jsonl, the FSC against a reference, the distribution of the
/// particles' most probable views and of their probabilities, the configuration, command line, version and input,
/// rejected particles and the log's warnings, and links to the run's files. Every part reads what the folder holds
/// at that moment, so the page can be refreshed during a run; a part whose file is missing or unreadable says so
/// and the rest of the page is still written. The page is written atomically.
/// </summary>
public static partial class RunReport
{
    public const string FileName = "report.html";

    private const string MapName = "map.mrc", ParticlesName = "particles.star", MetricsName = "metrics.jsonl", LogName = "run.log",
        ConfigName = "config.json", RejectedName = "rejected.star", IterationsName = "iterations";

    /// <summary>Writes the report of <paramref name="runDirectory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">the run folder does not exist</exception>
    /// <exception cref="CryoFlowDataException">the reference map cannot be read or compared with the run's map</exception>
    public static RunReportResult Write(string runDirectory, RunReportOptions? options = null, ILogger? log = null)
    {
        options ??= new RunReportOptions();
        log ??= Serilog.Core.Logger.None;
        string run = Path.GetFullPath(runDirectory);
        if (!Directory.Exists(run)) throw new DirectoryNotFoundException($"the run folder {run} does not exist");
        string output = Path.GetFullPath(options.OutputPath ?? Path.Combine(run, FileName));
        string logPath = Path.GetFullPath(options.LogPath ?? Path.Combine(run, LogName));
        string outputDir = Path.GetDirectoryName(output)!;

        var page = new ReportPage();
        var metrics = LatestRun(page, Attempt(page, MetricsName, () => File.Exists(Path.Combine(run, MetricsName)) ? MetricsLog.Read(Path.Combine(run, MetricsName)) : []) ?? []);
        var logSummary = File.Exists(logPath) ? Attempt(page, Path.GetFileName(logPath), () => RunLogSummary.Read(logPath)) : null;
        var maps = IterationMaps(run);
        string? finalMap = File.Exists(Path.Combine(run, MapName)) ? Path.Combine(run, MapName) : maps.LastOrDefault().Path;
        var comparison = options.ReferencePath is string reference && finalMap is not null
            ? MapComparison.Compare(Path.GetFullPath(reference), finalMap, align: true, log: log)
            : null;
        var particles = File.Exists(Path.Combine(run, ParticlesName)) ? Attempt(page, ParticlesName, () => ReadPoses(Path.Combine(run, ParticlesName))) : null;
        var rejected = File.Exists(Path.Combine(run, RejectedName)) ? Attempt(page, RejectedName, () => ReadRejected(Path.Combine(run, RejectedName))) : null;

        MapSection(page, run, finalMap);
        FilmstripSection(page, run, maps, options.FilmstripFrames);
        FscSection(page, comparison, options.ReferencePath);
        ConvergenceSection(page, metrics, options.MaxChartPoints);
        PoseSection(page, particles);
        RunSection(page, run, logSummary, particles, finalMap);
        RejectedSection(page, rejected);
        WarningSection(page, logSummary, logPath);

        string header = Header(run, outputDir, logPath, finalMap, metrics, particles, rejected, comparison, page.Notes);
        string html = page.Build($"CryoFlow report: {Path.GetFileName(run)}", header);
        byte[] bytes = Encoding.UTF8.GetBytes(html);
        Directory.CreateDirectory(outputDir);
        AtomicFile.Write(output, s => s.Write(bytes));
        return new RunReportResult(output, bytes.Length, comparison);
    }

    /// <summary>
    /// For the reconstruction job, at its end and at each checkpoint: writes the report and logs where, or logs why
    /// it could not be written as a warning. It never throws: the report is a by-product of a run whose outputs
    /// are already written, so no failure of it (a bug included) may fail the run.
    /// </summary>
    /// <returns>the report, or null when it failed</returns>
    public static RunReportResult? TryWrite(string runDirectory, RunReportOptions? options, ILogger log)
    {
        try
        {
            var result = Write(runDirectory, options, log);
            log.Information("Report {Path} ({KiB:N0} KiB)", result.Path, result.Bytes / 1024);
            return result;
        }
        catch (Exception e) // deliberately broad, see the summary
        {
            log.Warning("The run report could not be written: {Error}", e.Message);
            log.Debug(e, "Run report failure");
            return null;
        }
    }

    // ------------------------------------------------------------------ reading the run folder

    /// <summary>Reads one input; a data or I/O problem is noted on the page and the part is left out.</summary>
    private static T? Attempt<T>(ReportPage page, string what, Func<T> read) where T : class
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is CryoFlowDataException or IOException or UnauthorizedAccessException or JsonException)
        {
            page.Notes.Add($"{what} could not be read: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// The lines of the latest run: a run started again in the same folder appends to metrics.jsonl from iteration 1,
    /// so the latest run begins after the last line whose iteration does not exceed the one before.
    /// </summary>
    private static IReadOnlyList<IterationMetrics> LatestRun(ReportPage page, IReadOnlyList<IterationMetrics> metrics)
    {
        int start = 0;
        for (int i = 1; i < metrics.Count; i++)
            if (metrics[i].Iteration <= metrics[i - 1].Iteration) start = i;
        if (start == 0) return metrics;
        page.Notes.Add(Inv($"{MetricsName} starts with {start:N0} lines of an earlier run in this folder; only the latest run's {metrics.Count - start:N0} are shown."));
        return metrics.Skip(start).ToList();
    }

    /// <summary>iterations/map_NNNNNN.mrc in iteration order.</summary>
    private static List<(long Iteration, string Path)> IterationMaps(string run)
    {
        string dir = Path.Combine(run, IterationsName);
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "map_*.mrc")
            .Select(p => (Match: IterationMap().Match(Path.GetFileName(p)), Path: p))
            .Where(m => m.Match.Success)
            .Select(m => (long.Parse(m.Match.Groups[1].Value, CultureInfo.InvariantCulture), m.Path))
            .OrderBy(m => m.Item1)
            .ToList();
    }

    [GeneratedRegex(@"^map_(\d+)\.mrc$")]
    private static partial Regex IterationMap();

    private sealed record Map(float[] Voxels, int Box, double? VoxelSize);

    private static Map ReadMap(string path)
    {
        using var reader = MrcReader.OpenVolume(path, Serilog.Core.Logger.None);
        var h = reader.Header;
        if (h.Nx != h.Ny || h.Ny != h.Nz)
            throw new MrcFormatException("the map must be cubic", new DataLocation(FilePath: path, Field: "NX, NY, NZ", Found: $"{h.Nx} x {h.Ny} x {h.Nz}"));
        return new Map(reader.ReadVolume(), h.Nx, h.VoxelSizeX);
    }

    /// <summary>What particles.star says of the poses: counts, the sky map of the evaluated particles (probability above 0;
    /// all when the file has no probabilities) and the histogram of the probabilities (null without them).</summary>
    private sealed record Poses(int Count, int OpticsGroups, int Evaluated, SkyMap Sky, long[]? ProbabilityHistogram);

    private const int ProbabilityBins = 50;

    /// <summary>
    /// Streams particles.star twice, one row in memory at a time: first to count the evaluated particles (which sets the
    /// sky map's grid), then to bin their directions and probabilities.
    /// </summary>
    private static Poses ReadPoses(string path)
    {
        int n = 0, evaluated = 0;
        bool probabilities = false;
        var doc = StreamPoseRows(path, (_, p) =>
        {
            n++;
            probabilities = p is not null;
            if (p is not double q || q > 0) evaluated++;
        });
        var sky = new PoseDistribution.SkyCounts(evaluated);
        long[]? histogram = probabilities ? new long[ProbabilityBins] : null;
        StreamPoseRows(path, (row, p) =>
        {
            if (p is double q) PoseDistribution.AddTo(histogram!, q, 0, 1);
            if (p is not double r || r > 0) sky.Add(row.Rot(), row.Tilt());
        });
        return new Poses(n, doc.Find("optics")?.Loop?.RowCount ?? 0, evaluated, sky.ToMap(), histogram);
    }

    private readonly record struct PoseRow(StarTable Table, int RotCol, int TiltCol)
    {
        public double Rot() => Table.GetDouble(0, RotCol);

        public double Tilt() => Table.GetDouble(0, TiltCol);
    }

    /// <summary>Calls <paramref name="row"/> for each row of the first loop with rlnAngleRot, with its probability (null without the column).</summary>
    private static StarDocument StreamPoseRows(string path, Action<PoseRow, double?> row)
    {
        int rotCol = -1, tiltCol = -1, probCol = -1;
        bool found = false;
        var doc = StarReader.ReadStreaming(path, (_, b) =>
        {
            if (found || !b.Loop!.Contains(RelionLabels.AngleRot)) return false;
            found = true;
            (rotCol, tiltCol) = (b.Loop.RequireColumn(RelionLabels.AngleRot), b.Loop.RequireColumn(RelionLabels.AngleTilt));
            probCol = b.Loop.IndexOf(RelionLabels.MaxValueProbDistribution);
            return true;
        }, t => row(new PoseRow(t, rotCol, tiltCol), probCol >= 0 ? t.GetDouble(0, probCol) : null));
        if (!found) throw new StarFormatException("no loop has rlnAngleRot", new DataLocation(FilePath: path));
        return doc;
    }

    private sealed record Rejections(int Count, List<string[]> Rows);

    private static Rejections ReadRejected(string path)
    {
        var table = StarDocument.Read(path).Blocks.Select(b => b.Loop).FirstOrDefault(l => l is not null && l.Contains(RejectedParticles.ReasonLabel))
            ?? throw new StarFormatException($"no loop has {RejectedParticles.ReasonLabel}", new DataLocation(FilePath: path));
        int name = table.IndexOf(RelionLabels.ImageName), reason = table.RequireColumn(RejectedParticles.ReasonLabel);
        var rows = Enumerable.Range(0, Math.Min(table.RowCount, MaxRows))
            .Select(r => new[] { name >= 0 ? table.GetString(r, name) : (r + 1).ToString(CultureInfo.InvariantCulture), table.GetString(r, reason) })
            .ToList();
        return new Rejections(table.RowCount, rows);
    }

    private const int MaxRows = 200;

    // ------------------------------------------------------------------ the parts of the page

    private static string Header(string run, string outputDir, string logPath, string? finalMap, IReadOnlyList<IterationMetrics> metrics,
        Poses? particles, Rejections? rejected, MapComparisonResult? comparison, IReadOnlyList<string> notes)
    {
        var sb = new StringBuilder();
        sb.Append($"<h1>CryoFlow run report: {Esc(Path.GetFileName(run))}</h1>");
        string state = finalMap is null ? "no map yet"
            : Path.GetFileName(finalMap) == MapName ? "final map"
            : $"in progress: latest map {Path.GetRelativePath(run, finalMap)}";
        sb.Append($"<p class=\"muted\">{Esc(run)} · {Esc(state)} · written {Esc(DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))}</p>");
        sb.Append("<p class=\"files\">Files: ");
        var links = new[] { Path.Combine(run, MapName), Path.Combine(run, ParticlesName), Path.Combine(run, MetricsName), logPath,
            Path.Combine(run, ConfigName), Path.Combine(run, RejectedName) };
        sb.AppendJoin(" · ", links.Where(File.Exists).Select(p => $"<a href=\"{Esc(RelativeUrl(outputDir, p))}\">{Esc(Path.GetFileName(p))}</a>"));
        var missing = links.Take(4).Where(p => !File.Exists(p)).Select(Path.GetFileName).ToList();
        if (missing.Count > 0) sb.Append($" <span class=\"muted\">(not written yet: {Esc(string.Join(", ", missing))})</span>");
        sb.Append("</p>");

        var facts = new List<(string, string)>();
        if (metrics.Count > 0)
        {
            var last = metrics[^1];
            facts.Add(("iterations", Inv($"{last.Iteration:N0} in {FormatDuration(last.WallSeconds)}")));
            facts.Add(("maximum frequency", Inv($"{last.MaxFrequency:F4} 1/Å ({last.Resolution:F1} Å)")));
            facts.Add(("objective", Inv($"{last.Objective:G6}")));
            if (metrics.LastOrDefault(m => m.TestNll is not null) is { } test)
                facts.Add(("held-out NLL, RREMSE", Inv($"{test.TestNll:G6}, {test.TestRremse:F4} (iteration {test.Iteration})")));
        }
        if (particles is not null) facts.Add(("particles", Inv($"{particles.Count:N0}")));
        if (rejected is not null) facts.Add(("rejected", Inv($"{rejected.Count:N0}")));
        if (comparison is not null)
            facts.Add(("FSC against the reference", Inv($"0.5 at {comparison.Fsc.ResolutionAt(0.5):F1} Å, 0.143 at {comparison.Fsc.ResolutionAt(0.143):F1} Å")));
        if (facts.Count > 0) sb.Append(FactsTable(facts));
        foreach (string note in notes) sb.Append($"<p class=\"warn\">{Esc(note)}</p>");
        return sb.ToString();
    }

    private static void Views(StringBuilder sb, Map map, string what)
    {
        foreach (var view in MapViewImages.Render(map.Voxels, map.Box))
            sb.Append($"<figure>{Image(view.Png, $"{what}: {view.Title}", "view")}<figcaption>{Esc(view.Title)}</figcaption></figure>");
    }

    private static void MapSection(ReportPage page, string run, string? finalMap)
    {
        page.Section("map", "Map");
        if (finalMap is null)
        {
            page.Paragraph("No map has been written yet.", "muted");
            return;
        }
        var map = Attempt(page, Path.GetRelativePath(run, finalMap), () => ReadMap(finalMap));
        if (map is null) return;
        string voxel = map.VoxelSize is double v ? Inv($"{v:G4} Å/voxel") : "voxel size unknown";
        var (low, high) = GrayscaleMapping.FiniteRange(map.Voxels);
        page.Paragraph(Inv($"{Path.GetRelativePath(run, finalMap)}: box {map.Box}, {voxel}, values {low:G4} to {high:G4}. Central sections through voxel D/2 and projections along each axis; each image from its own minimum (black) to maximum (white), second axis pointing up."), "muted");
        if (low == high) page.Paragraph(Inv($"The map is constant (every voxel {low:G4}): there is nothing to see."), "warn");
        var sb = new StringBuilder("<div class=\"views\">");
        Views(sb, map, "final map");
        page.Raw(sb.Append("</div>").ToString());
    }

    /// <summary>About <paramref name="frames"/> maps, evenly spaced over the run, first and last included.</summary>
    private static IReadOnlyList<int> EvenlySpaced(int count, int frames)
    {
        if (count == 0 || frames < 1) return [];
        if (frames == 1 || count == 1) return [count - 1];
        return Enumerable.Range(0, frames).Select(k => (int)Math.Round(k * (count - 1) / (double)(frames - 1))).Distinct().ToArray();
    }

    private static void FilmstripSection(ReportPage page, string run, List<(long Iteration, string Path)> maps, int frames)
    {
        page.Section("filmstrip", "How the map emerged");
        if (maps.Count == 0)
        {
            page.Paragraph("No intermediate maps (iterations/map_NNNNNN.mrc; output.mapEvery).", "muted");
            return;
        }
        page.Paragraph(Inv($"{Math.Min(frames, maps.Count)} of the {maps.Count} maps in iterations/, from the random start; the same six views as above."), "muted");
        var sb = new StringBuilder("<div class=\"strip\">");
        foreach (int i in EvenlySpaced(maps.Count, frames))
        {
            var (iteration, path) = maps[i];
            var map = Attempt(page, Path.GetRelativePath(run, path), () => ReadMap(path));
            if (map is null) continue;
            string label = iteration == 0 ? "random start" : Inv($"iteration {iteration:N0}");
            var (low, high) = GrayscaleMapping.FiniteRange(map.Voxels);
            if (low == high) label += Inv($" (constant {low:G4})");
            sb.Append($"<div class=\"it\">{Esc(label)}</div>");
            foreach (var view in MapViewImages.Render(map.Voxels, map.Box))
                sb.Append(Image(view.Png, $"{label}: {view.Title}", "view"));
        }
        page.Raw(sb.Append("</div>").ToString());
    }

    private static void FscSection(ReportPage page, MapComparisonResult? comparison, string? reference)
    {
        page.Section("fsc", "FSC against a reference");
        if (comparison is null)
        {
            page.Paragraph(reference is null
                ? "No reference map was given (cryoflow report RUN --reference truth.mrc)."
                : "There is no map to compare with the reference yet.", "muted");
            return;
        }
        var fsc = comparison.Fsc;
        var shells = fsc.Shells.Skip(1).ToList();
        string aligned = MapComparison.DescribeAlignment(comparison.Alignment!, "the map", "the reference");
        page.Paragraph($"Reference: {reference}. {char.ToUpperInvariant(aligned[0])}{aligned[1..]}.");
        page.Paragraph(Inv($"Resolution at FSC 0.5: {fsc.ResolutionAt(0.5):F2} Å; at FSC 0.143: {fsc.ResolutionAt(0.143):F2} Å (Nyquist {2 * fsc.VoxelSize:F2} Å)."));
        page.Raw(SvgCharts.Line(new ChartSpec
        {
            Id = "fsc",
            Title = "Fourier shell correlation with the reference",
            XLabel = "spatial frequency (1/Å)",
            YLabel = "FSC",
            YMin = Math.Min(0, shells.Min(s => s.Correlation)),
            YMax = 1,
            Marks = [(0.5, "0.5"), (0.143, "0.143")],
        }, [new ChartSeries("FSC", shells.Select(s => s.Frequency).ToArray(), shells.Select(s => s.Correlation).ToArray())]));
        var sb = new StringBuilder("<div class=\"strip\">");
        foreach (var (label, map) in new[] { ("reference", comparison.Reference), ("map aligned to it", comparison.Map) })
        {
            sb.Append($"<div class=\"it\">{Esc(label)}</div>");
            foreach (var view in MapViewImages.Render(map, comparison.BoxSize))
                sb.Append(Image(view.Png, $"{label}: {view.Title}", "view"));
        }
        page.Raw(sb.Append("</div>").ToString());
    }

    private static void ConvergenceSection(ReportPage page, IReadOnlyList<IterationMetrics> metrics, int maxPoints)
    {
        page.Section("convergence", "Convergence");
        if (metrics.Count == 0)
        {
            page.Paragraph("No metrics yet (metrics.jsonl).", "muted");
            return;
        }
        var iteration = metrics.Select(m => (double)m.Iteration).ToArray();
        double longest = metrics.Max(m => m.WallSeconds);
        var (unit, seconds) = longest >= 7200 ? ("h", 3600.0) : longest >= 120 ? ("min", 60.0) : ("s", 1.0);
        var wall = metrics.Select(m => m.WallSeconds / seconds).ToArray();
        static double Value(double? v) => v ?? double.NaN;
        bool sampled = metrics.Any(m => m.DirectionFraction != m.QuadratureFraction || m.InPlaneFraction != m.QuadratureFraction || m.ShiftFraction != m.QuadratureFraction);
        var charts = new (string Id, string Title, string YLabel, bool Log, (string Name, Func<IterationMetrics, double> Y)[] Series)[]
        {
            ("objective", "Objective and held-out NLL", "per image", false, [("objective", m => m.Objective), ("held-out NLL", m => Value(m.TestNll))]),
            ("rremse", "Held-out RREMSE", "RREMSE", false, [("RREMSE", m => Value(m.TestRremse))]),
            ("frequency", "Maximum frequency", "1/Å", false, [("maximum frequency", m => m.MaxFrequency)]),
            ("step", "Step size and Lipschitz estimate L", "log scale", true, [("step size", m => m.StepSize), ("L", m => m.Lipschitz)]),
            ("quadrature", "Fraction of the quadrature evaluated", "fraction (log scale)", true, sampled
                ? [("all", m => m.QuadratureFraction), ("directions", m => Value(m.DirectionFraction)), ("in-plane", m => Value(m.InPlaneFraction)), ("shifts", m => Value(m.ShiftFraction))]
                : [("all", m => m.QuadratureFraction)]),
            ("speed", "Throughput", "particles/s", false, [("particles/s", m => m.ParticlesPerSecond)]),
            ("memory", "Resident memory", "MiB", false, [("resident", m => m.ResidentBytes / 1048576.0)]),
        };
        page.Paragraph(Inv($"{metrics.Count:N0} iterations from metrics.jsonl; lines longer than {maxPoints} points are thinned (largest-triangle-three-buckets). Left: against the iteration; right: against wall time."), "muted");
        var sb = new StringBuilder("<div class=\"charts\">");
        foreach (var (id, title, yLabel, log, series) in charts)
        {
            var ys = series.Select(s => (s.Name, Y: metrics.Select(s.Y).ToArray())).ToList();
            foreach (var (suffix, x, xLabel) in new[] { ("iteration", iteration, "iteration"), ("time", wall, $"wall time ({unit})") })
                sb.Append(SvgCharts.Line(new ChartSpec { Id = $"{id}-{suffix}", Title = title, XLabel = xLabel, YLabel = yLabel, LogY = log, MaxPoints = maxPoints },
                    ys.Select(s => new ChartSeries(s.Name, x, s.Y)).ToList()));
        }
        page.Raw(sb.Append("</div>").ToString());
    }

    private static void PoseSection(ReportPage page, Poses? particles)
    {
        page.Section("poses", "Viewing directions");
        if (particles is null)
        {
            page.Paragraph("No particles.star yet.", "muted");
            return;
        }
        var sky = particles.Sky;
        int left = particles.Count - particles.Evaluated;
        page.Paragraph(Inv($"The most probable viewing direction of {particles.Evaluated:N0} particles{(left > 0 ? $" ({left:N0} never evaluated left out)" : "")}: rot from -180° (left) to 180° (right), tilt from 0° (top) to 180° (bottom) with rows equal in cos(tilt), so each of the {sky.Columns} x {sky.Rows} cells covers the same solid angle and a uniform distribution is an even gray. Black: none; white: {sky.MaxCount:N0} particles."), "muted");
        string skyImage = $"<figure>{Image(sky.Png, "sky map of viewing directions", "sky")}<figcaption>rot -180° … 180° (left to right), tilt 0° … 180° (top to bottom)</figcaption></figure>";
        if (particles.ProbabilityHistogram is not long[] histogram)
        {
            page.Raw($"<div class=\"pair\">{skyImage}</div>");
            return;
        }
        page.Raw($"<div class=\"pair\">{skyImage}" + SvgCharts.Histogram(new ChartSpec
        {
            Id = "probability",
            Title = "Probability of the most probable pose",
            XLabel = "rlnMaxValueProbDistribution",
            YLabel = "particles",
        }, 0, 1, histogram) + "</div>");
    }

    private static void RunSection(ReportPage page, string run, RunLogSummary? log, Poses? particles, string? finalMap)
    {
        page.Section("run", "Run");
        var facts = new List<(string, string)>
        {
            ("version", log?.Version ?? "unknown (no version line in the log)"),
            ("command line", log?.CommandLine ?? "unknown"),
        };
        if (log?.InputLine is string input) facts.Add(("input", input));
        if (particles is not null) facts.Add(("particles.star", Inv($"{particles.Count:N0} particles, {particles.OpticsGroups} optics group(s)")));
        if (finalMap is not null && Attempt(page, Path.GetFileName(finalMap), () => MrcReader.ReadHeader(finalMap, Serilog.Core.Logger.None)) is { } h)
            facts.Add(("map", Inv($"box {h.Nx}, {(h.VoxelSizeX is double v ? v.ToString("G4", CultureInfo.InvariantCulture) + " Å/voxel" : "voxel size unknown")}")));
        page.Facts(facts);
        if (log is not null)
        {
            page.Raw("<details><summary>First lines of the log</summary>");
            page.Preformatted(string.Join('\n', log.FirstLines));
            page.Raw("</details>");
        }
        string config = Path.Combine(run, ConfigName);
        if (File.Exists(config) && Attempt(page, ConfigName, () => File.ReadAllText(config)) is string json)
        {
            page.Raw("<details><summary>Configuration (config.json)</summary>");
            page.Preformatted(json);
            page.Raw("</details>");
        }
    }

    private static void RejectedSection(ReportPage page, Rejections? rejected)
    {
        page.Section("rejected", "Rejected particles");
        if (rejected is null || rejected.Count == 0)
        {
            page.Paragraph("None (no rejected.star).", "muted");
            return;
        }
        page.Paragraph(Inv($"{rejected.Count:N0} particles were set aside{(rejected.Count > rejected.Rows.Count ? $"; the first {rejected.Rows.Count} are listed" : "")} (rejected.star, reason in rlnCryoFlowRejectReason)."));
        page.Table(["image", "reason"], rejected.Rows, "rejected-table");
    }

    private static void WarningSection(ReportPage page, RunLogSummary? log, string logPath)
    {
        page.Section("warnings", "Warnings and errors");
        if (log is null)
        {
            page.Paragraph($"No log ({Path.GetFileName(logPath)}).", "muted");
            return;
        }
        if (log.ProblemCount == 0)
        {
            page.Paragraph("None in the log.", "muted");
            return;
        }
        page.Paragraph(Inv($"{log.ProblemCount:N0} WRN/ERR lines in {Path.GetFileName(logPath)}{(log.ProblemCount > log.Problems.Count ? $"; the first {log.Problems.Count} shown" : "")}."));
        page.Preformatted(string.Join('\n', log.Problems));
    }

    private static string FormatDuration(double seconds) =>
        seconds >= 3600 ? Inv($"{seconds / 3600:F1} h") : seconds >= 120 ? Inv($"{seconds / 60:F1} min") : Inv($"{seconds:F1} s");

    /// <summary>A relative URL from the page's folder to a file, each path segment escaped.</summary>
    private static string RelativeUrl(string fromDir, string file) =>
        string.Join('/', Path.GetRelativePath(fromDir, file).Split(Path.DirectorySeparatorChar).Select(Uri.EscapeDataString));
}
