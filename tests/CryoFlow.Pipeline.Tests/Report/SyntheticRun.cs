using System.Globalization;
using System.Text.RegularExpressions;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Star;
using CryoFlow.Pipeline.Output;

namespace CryoFlow.Pipeline.Tests.Report;

/// <summary>Writes the files of a run folder directly, without running a reconstruction, for the report's tests.</summary>
internal static partial class SyntheticRun
{
    /// <summary>A map of Gaussian blobs of different heights at off-centre positions, so each view has one brightest pixel.</summary>
    public static float[] Blobs(int d)
    {
        var blobs = new (double X, double Y, double Z, double Height)[]
        {
            (0.30, 0.55, 0.50, 1.0), (0.65, 0.40, 0.35, 0.8), (0.45, 0.70, 0.62, 0.6), (0.58, 0.28, 0.50, 0.7),
        };
        var map = new float[d * d * d];
        double sigma = d / 16.0;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
                for (int x = 0; x < d; x++)
                {
                    double v = 0;
                    foreach (var b in blobs)
                    {
                        double dx = x - b.X * d, dy = y - b.Y * d, dz = z - b.Z * d;
                        v += b.Height * Math.Exp(-(dx * dx + dy * dy + dz * dz) / (2 * sigma * sigma));
                    }
                    map[(z * d + y) * d + x] = (float)v;
                }
        return map;
    }

    public static float[] Noise(int d, int seed)
    {
        var rng = new Random(seed);
        var map = new float[d * d * d];
        for (int i = 0; i < map.Length; i++) map[i] = (float)rng.NextDouble();
        return map;
    }

    public static void WriteMap(string path, float[] map, int d, double apix = 2.0)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        MrcWriter.WriteVolume(path, map, d, d, d, new MrcWriterOptions { VoxelSize = apix });
    }

    /// <summary>metrics.jsonl with <paramref name="iterations"/> noisy lines, the held-out set evaluated every 25 iterations.</summary>
    public static void WriteMetrics(string path, int iterations, int seed = 1)
    {
        var rng = new Random(seed);
        using var log = new MetricsLog(path, append: true); // appends, as CryoFlow did before runs were resumable
        for (int it = 1; it <= iterations; it++)
            log.Append(new IterationMetrics
            {
                Iteration = it,
                WallSeconds = 0.37 * it + rng.NextDouble(),
                MaxFrequency = 0.02 + 0.005 * (it / 150),
                Lipschitz = 0.25 * Math.Exp(rng.NextDouble()),
                StepSize = 8 / (1 + it / 100.0),
                Objective = 500 + 100.0 / it + 5 * rng.NextDouble(),
                TestNll = it % 25 == 1 ? 510 + 100.0 / it : null,
                TestRremse = it % 25 == 1 ? 1 + 1.0 / it : null,
                QuadratureFraction = it < 40 ? 1 : 1e-3 + 1e-3 * rng.NextDouble(),
                DirectionFraction = it < 40 ? 1 : 0.05,
                InPlaneFraction = it < 40 ? 1 : 0.1,
                ShiftFraction = it < 40 ? 1 : 0.2,
                ParticlesPerSecond = 1000 + 500 * rng.NextDouble(),
                ResidentBytes = 200_000_000 + 1000L * it,
            });
    }

    /// <summary>particles.star with poses and probabilities.</summary>
    public static void WriteParticles(string path, int count, int seed = 2)
    {
        var rng = new Random(seed);
        var table = new StarTable("rlnImageName", "rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi", "rlnMaxValueProbDistribution");
        for (int i = 0; i < count; i++)
            table.AddRow(Inv($"{i + 1:D6}@particles.mrcs"), Inv($"{rng.NextDouble() * 360 - 180:F3}"),
                Inv($"{Math.Acos(2 * rng.NextDouble() - 1) * 180 / Math.PI:F3}"), Inv($"{rng.NextDouble() * 360:F3}"), Inv($"{rng.NextDouble():F4}"));
        var doc = new StarDocument(StarVersions.Relion31);
        doc.AddBlock("particles", table);
        doc.Write(path);
    }

    public static void WriteRejected(string path, params (string Image, string Reason)[] rows)
    {
        var table = new StarTable("rlnImageName", RejectedParticles.ReasonLabel);
        foreach (var (image, reason) in rows) table.AddRow(image, reason);
        var doc = new StarDocument(StarVersions.Relion31);
        doc.AddBlock("particles", table);
        doc.Write(path);
    }

    public const string LogText = """
        2026-01-02 03:04:05.678 INF cryoflow 9.8.7: cryoflow reconstruct particles.star --out run
        2026-01-02 03:04:05.700 INF Configuration hash abc123
        2026-01-02 03:04:06.000 INF 5000 particles, box 128, 1.5 Å/px; 200 held out, 24 minibatches of about 200; 2 threads
        2026-01-02 03:04:07.000 WRN Rejected 000007@particles.mrcs: a pixel is NaN or infinite
        2026-01-02 03:04:08.000 ERR Something <failed> & was retried
        System.IO.IOException: the stack trace line that follows an error
        2026-01-02 03:04:09.000 INF Stopped after 5000 iterations (MaxIterations) at 7.0 Å
        """;

    /// <summary>A complete run folder: final map, <paramref name="maps"/> iteration maps, metrics, particles, log, config, rejected.</summary>
    public static void Write(string run, int d, int iterations, int maps, Func<int, float[]> map, int particles = 2000)
    {
        Directory.CreateDirectory(run);
        WriteMap(Path.Combine(run, "map.mrc"), map(-1), d);
        for (int k = 0; k < maps; k++)
        {
            long it = maps == 1 ? 0 : (long)k * iterations / (maps - 1);
            WriteMap(Path.Combine(run, "iterations", Inv($"map_{it:D6}.mrc")), map(k), d);
        }
        WriteMetrics(Path.Combine(run, "metrics.jsonl"), iterations);
        WriteParticles(Path.Combine(run, "particles.star"), particles);
        WriteRejected(Path.Combine(run, "rejected.star"), ("000007@particles.mrcs", "a pixel is NaN or infinite"), ("000009@missing.mrcs", "missing.mrcs: not found"));
        File.WriteAllText(Path.Combine(run, "run.log"), LogText.ReplaceLineEndings("\n") + "\n");
        File.WriteAllText(Path.Combine(run, "config.json"), "{\n  \"run\": { \"seed\": 1 }\n}\n");
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>The src of the img whose alt text is <paramref name="alt"/>.</summary>
    public static string ImageSource(string html, string alt)
    {
        var m = Regex.Match(html, $"<img class=\"view\" alt=\"{Regex.Escape(alt)}\" src=\"([^\"]+)\">");
        Assert.True(m.Success, $"no image '{alt}'");
        return m.Groups[1].Value;
    }

    /// <summary>The data-* attributes of each polyline of the chart <paramref name="chart"/>: (series, points drawn, source points, point pairs in the points attribute).</summary>
    public static IReadOnlyList<(string Series, int Points, int SourcePoints, int Pairs)> Lines(string html, string chart)
    {
        var svg = Regex.Match(html, $"<svg [^>]*data-chart=\"{Regex.Escape(chart)}\".*?</svg>");
        Assert.True(svg.Success, $"no chart '{chart}'");
        return PolylineRegex().Matches(svg.Value)
            .Select(m => (m.Groups["series"].Value, int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups["source"].Value, CultureInfo.InvariantCulture), m.Groups["points"].Value.Split(' ').Length))
            .ToList();
    }

    [GeneratedRegex("<polyline [^>]*data-series=\"(?<series>[^\"]*)\" data-points=\"(?<n>\\d+)\" data-source-points=\"(?<source>\\d+)\" points=\"(?<points>[^\"]*)\"")]
    private static partial Regex PolylineRegex();
}
