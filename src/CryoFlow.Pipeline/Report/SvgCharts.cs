using System.Globalization;
using System.Text;

namespace CryoFlow.Pipeline.Report;

/// <summary>One line of a chart: points in data units; non-finite points (and non-positive ones on a log axis) are left out.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>What a chart shows and how.</summary>
public sealed record ChartSpec
{
    /// <summary>The svg element's data-chart attribute, unique in the page.</summary>
    public required string Id { get; init; }

    public required string Title { get; init; }

    public required string XLabel { get; init; }

    public required string YLabel { get; init; }

    /// <summary>A logarithmic y axis.</summary>
    public bool LogY { get; init; }

    /// <summary>Fixed y range; null: the data's.</summary>
    public double? YMin { get; init; }

    public double? YMax { get; init; }

    /// <summary>Dashed horizontal lines with a label, e.g. the FSC thresholds.</summary>
    public IReadOnlyList<(double Y, string Label)> Marks { get; init; } = [];

    /// <summary>Series longer than this are thinned (<see cref="SeriesThinning.Lttb"/>).</summary>
    public int MaxPoints { get; init; } = 500;
}

/// <summary>
/// Hand-written inline SVG charts for the run report: no script and no library, so the page works offline and
/// stays small. Each line is one polyline carrying data-series (its name), data-points (points drawn) and
/// data-source-points (points before thinning); histograms carry data-bins.
/// </summary>
public static class SvgCharts
{
    private const int Width = 440, Height = 260, Left = 64, Right = 14, Top = 40, Bottom = 40;
    private const int PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];

    public static string Line(ChartSpec spec, IReadOnlyList<ChartSeries> series)
    {
        var lines = series.Select(s => (s.Name, Points: Usable(s, spec.LogY))).ToList();
        var all = lines.SelectMany(l => l.Points).ToList();
        var sb = Open(spec);
        if (all.Count == 0)
        {
            Frame(sb);
            sb.Append($"<text class=\"empty\" x=\"{Left + PlotWidth / 2}\" y=\"{Top + PlotHeight / 2}\" text-anchor=\"middle\">no data</text>");
            return Close(sb);
        }
        var x = new Axis(all.Min(p => p.X), all.Max(p => p.X), false, Left, Left + PlotWidth);
        var y = new Axis(spec.YMin ?? all.Min(p => p.Y), spec.YMax ?? all.Max(p => p.Y), spec.LogY, Top + PlotHeight, Top);
        Frame(sb);
        Ticks(sb, x, y);
        foreach (var (value, label) in spec.Marks)
        {
            if (value < y.Min || value > y.Max) continue;
            string py = F(y.Map(value));
            sb.Append($"<line class=\"mark\" data-mark=\"{Num(value)}\" x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{py}\" y2=\"{py}\"/>");
            sb.Append($"<text class=\"mark\" x=\"{Left + PlotWidth - 4}\" y=\"{F(y.Map(value) - 3)}\" text-anchor=\"end\">{Esc(label)}</text>");
        }
        for (int i = 0; i < lines.Count; i++)
        {
            var (name, points) = lines[i];
            string colour = Palette[i % Palette.Length];
            var keep = SeriesThinning.Lttb(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray(), Math.Max(3, spec.MaxPoints));
            sb.Append($"<polyline class=\"series\" stroke=\"{colour}\" data-series=\"{Esc(name)}\" data-points=\"{keep.Length}\" data-source-points=\"{points.Count}\" points=\"");
            for (int k = 0; k < keep.Length; k++)
            {
                var p = points[keep[k]];
                if (k > 0) sb.Append(' ');
                sb.Append(F(x.Map(p.X))).Append(',').Append(F(Math.Clamp(y.Map(p.Y), Top, Top + PlotHeight)));
            }
            sb.Append("\"/>");
            if (keep.Length <= 40)
                foreach (int k in keep)
                    sb.Append($"<circle class=\"dot\" fill=\"{colour}\" cx=\"{F(x.Map(points[k].X))}\" cy=\"{F(Math.Clamp(y.Map(points[k].Y), Top, Top + PlotHeight))}\" r=\"2\"/>");
        }
        if (lines.Count > 1) Legend(sb, lines.Select(l => l.Name).ToList());
        return Close(sb);
    }

    /// <summary>Bars of <paramref name="counts"/> over equal bins from <paramref name="low"/> to <paramref name="high"/>.</summary>
    public static string Histogram(ChartSpec spec, double low, double high, IReadOnlyList<long> counts)
    {
        var sb = Open(spec);
        Frame(sb);
        long most = counts.Count == 0 ? 0 : counts.Max();
        var x = new Axis(low, high, false, Left, Left + PlotWidth);
        var y = new Axis(0, Math.Max(1, most), false, Top + PlotHeight, Top);
        Ticks(sb, x, y);
        sb.Append($"<g class=\"bars\" data-bins=\"{counts.Count}\" data-total=\"{counts.Sum()}\">");
        double width = PlotWidth / (double)Math.Max(1, counts.Count);
        for (int i = 0; i < counts.Count; i++)
        {
            double top = y.Map(counts[i]);
            sb.Append($"<rect x=\"{F(Left + i * width)}\" y=\"{F(top)}\" width=\"{F(Math.Max(0.5, width - 1))}\" height=\"{F(Top + PlotHeight - top)}\"/>");
        }
        sb.Append("</g>");
        return Close(sb);
    }

    private static List<(double X, double Y)> Usable(ChartSeries s, bool log)
    {
        if (s.X.Count != s.Y.Count) throw new ArgumentException($"series '{s.Name}': {s.X.Count} abscissae but {s.Y.Count} ordinates");
        var points = new List<(double, double)>(s.X.Count);
        for (int i = 0; i < s.X.Count; i++)
            if (double.IsFinite(s.X[i]) && double.IsFinite(s.Y[i]) && (!log || s.Y[i] > 0)) points.Add((s.X[i], s.Y[i]));
        return points;
    }

    private static StringBuilder Open(ChartSpec spec)
    {
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"{Esc(spec.Id)}\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{Esc(spec.Title)}\">");
        sb.Append($"<text class=\"title\" x=\"{Left}\" y=\"17\">{Esc(spec.Title)}</text>");
        sb.Append($"<text class=\"label\" x=\"{Left + PlotWidth / 2}\" y=\"{Height - 6}\" text-anchor=\"middle\">{Esc(spec.XLabel)}</text>");
        sb.Append($"<text class=\"label\" transform=\"translate(13 {Top + PlotHeight / 2}) rotate(-90)\" text-anchor=\"middle\">{Esc(spec.YLabel)}</text>");
        return sb;
    }

    private static string Close(StringBuilder sb) => sb.Append("</svg>").ToString();

    private static void Frame(StringBuilder sb) =>
        sb.Append($"<rect class=\"frame\" x=\"{Left}\" y=\"{Top}\" width=\"{PlotWidth}\" height=\"{PlotHeight}\"/>");

    private static void Ticks(StringBuilder sb, Axis x, Axis y)
    {
        foreach (var (value, label) in x.Ticks())
        {
            string px = F(x.Map(value));
            sb.Append($"<line class=\"grid\" x1=\"{px}\" x2=\"{px}\" y1=\"{Top}\" y2=\"{Top + PlotHeight}\"/>");
            sb.Append($"<text class=\"tick\" x=\"{px}\" y=\"{Top + PlotHeight + 14}\" text-anchor=\"middle\">{label}</text>");
        }
        foreach (var (value, label) in y.Ticks())
        {
            string py = F(y.Map(value));
            sb.Append($"<line class=\"grid\" x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{py}\" y2=\"{py}\"/>");
            sb.Append($"<text class=\"tick\" x=\"{Left - 4}\" y=\"{F(y.Map(value) + 4)}\" text-anchor=\"end\">{label}</text>");
        }
    }

    /// <summary>One row under the title: a short line in each series' colour and its name.</summary>
    private static void Legend(StringBuilder sb, IReadOnlyList<string> names)
    {
        double x = Left;
        for (int i = 0; i < names.Count; i++)
        {
            sb.Append($"<line x1=\"{F(x)}\" x2=\"{F(x + 16)}\" y1=\"30\" y2=\"30\" stroke=\"{Palette[i % Palette.Length]}\" stroke-width=\"2\"/>");
            sb.Append($"<text class=\"legend\" x=\"{F(x + 20)}\" y=\"34\">{Esc(names[i])}</text>");
            x += 34 + 6.5 * names[i].Length;
        }
    }

    /// <summary>A data range mapped onto a pixel range, linear or logarithmic, with readable ticks.</summary>
    private sealed class Axis
    {
        public Axis(double min, double max, bool log, double pixelAtMin, double pixelAtMax)
        {
            if (max < min) (min, max) = (max, min);
            if (log)
            {
                min = Math.Max(min, double.Epsilon);
                max = Math.Max(max, min);
                if (max / min < 1.0001) { min /= 2; max *= 2; }
            }
            else if (max - min <= Math.Abs(max) * 1e-12 || max == min)
            {
                double pad = max == 0 ? 1 : Math.Abs(max) * 0.05;
                min -= pad;
                max += pad;
            }
            (Min, Max, Log, _p0, _p1) = (min, max, log, pixelAtMin, pixelAtMax);
        }

        private readonly double _p0, _p1;

        public double Min { get; }

        public double Max { get; }

        public bool Log { get; }

        public double Map(double v)
        {
            double t = Log ? (Math.Log10(v) - Math.Log10(Min)) / (Math.Log10(Max) - Math.Log10(Min)) : (v - Min) / (Max - Min);
            return _p0 + t * (_p1 - _p0);
        }

        public IEnumerable<(double Value, string Label)> Ticks()
        {
            if (Log)
            {
                int lo = (int)Math.Ceiling(Math.Log10(Min) - 1e-9), hi = (int)Math.Floor(Math.Log10(Max) + 1e-9);
                if (hi - lo >= 1)
                {
                    int stride = Math.Max(1, (hi - lo + 5) / 6);
                    for (int k = lo; k <= hi; k += stride)
                    {
                        double v = Math.Pow(10, k);
                        yield return (v, v >= 1e-3 && v < 1e6 ? Num(v) : "1e" + k.ToString(CultureInfo.InvariantCulture));
                    }
                    yield break;
                }
            }
            double step = NiceStep((Max - Min) / 5);
            int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
            bool scientific = Math.Max(Math.Abs(Min), Math.Abs(Max)) >= 1e6;
            for (long k = (long)Math.Ceiling(Min / step - 1e-9); k * step <= Max + step * 1e-9; k++)
            {
                double v = k * step;
                if (Log && v <= 0) continue;
                yield return (v, scientific ? v.ToString("0.##E+0", CultureInfo.InvariantCulture) : v.ToString("F" + Math.Min(decimals, 10), CultureInfo.InvariantCulture));
            }
        }

        private static double NiceStep(double raw)
        {
            double e = Math.Pow(10, Math.Floor(Math.Log10(raw)));
            double f = raw / e;
            return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * e;
        }
    }

    /// <summary>Pixel coordinates, one decimal.</summary>
    private static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);

    private static string Num(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static string Esc(string text) => ReportPage.Esc(text);
}
