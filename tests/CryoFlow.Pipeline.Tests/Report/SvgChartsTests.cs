using System.Xml.Linq;
using CryoFlow.Pipeline.Report;

namespace CryoFlow.Pipeline.Tests.Report;

public class SvgChartsTests
{
    private static ChartSpec Spec(bool log = false, int maxPoints = 500) =>
        new() { Id = "c", Title = "A <title> & more", XLabel = "x", YLabel = "y", LogY = log, MaxPoints = maxPoints };

    private static XElement Parse(string svg) => XElement.Parse(svg);

    private static IEnumerable<XElement> Polylines(XElement svg) => svg.Descendants().Where(e => e.Name.LocalName == "polyline");

    [Fact]
    public void EachSeriesIsOnePolylineWithItsPointCount()
    {
        double[] x = [1, 2, 3, 4];
        var svg = Parse(SvgCharts.Line(Spec(), [new ChartSeries("a", x, [1, 2, 3, 4]), new ChartSeries("b & c", x, [4, double.NaN, 2, 1])]));
        Assert.Equal("c", svg.Attribute("data-chart")!.Value);
        var lines = Polylines(svg).ToList();
        Assert.Equal(["a", "b & c"], lines.Select(l => l.Attribute("data-series")!.Value));
        Assert.Equal(["4", "3"], lines.Select(l => l.Attribute("data-points")!.Value));
        Assert.Equal([4, 3], lines.Select(l => l.Attribute("points")!.Value.Split(' ').Length));
        Assert.Contains(svg.Descendants(), e => e.Value == "A <title> & more");
    }

    [Fact]
    public void LongSeriesAreThinnedToTheLimit()
    {
        var x = Enumerable.Range(0, 10_000).Select(i => (double)i).ToArray();
        var line = Polylines(Parse(SvgCharts.Line(Spec(maxPoints: 300), [new ChartSeries("s", x, x.Select(Math.Sqrt).ToArray())]))).Single();
        Assert.Equal("300", line.Attribute("data-points")!.Value);
        Assert.Equal("10000", line.Attribute("data-source-points")!.Value);
    }

    [Fact]
    public void ALogAxisLeavesOutNonPositiveValuesAndTicksDecades()
    {
        var svg = SvgCharts.Line(Spec(log: true), [new ChartSeries("f", [1, 2, 3, 4], [1, 0.01, 0, 1e-4])]);
        Assert.Equal("3", Polylines(Parse(svg)).Single().Attribute("data-points")!.Value);
        foreach (string tick in new[] { ">1<", ">0.01<", ">0.001<", ">1e-4<" }) Assert.Contains(tick, svg);
    }

    [Fact]
    public void PointsMapIntoThePlotAndUpIsLarger()
    {
        var line = Polylines(Parse(SvgCharts.Line(Spec(), [new ChartSeries("s", [0, 10], [0, 5])]))).Single();
        var points = line.Attribute("points")!.Value.Split(' ').Select(p => p.Split(',').Select(double.Parse).ToArray()).ToArray();
        Assert.True(points[1][0] > points[0][0]);
        Assert.True(points[1][1] < points[0][1], "larger values are drawn higher (smaller SVG y)");
    }

    [Fact]
    public void MarksOutsideTheRangeAreLeftOut()
    {
        var spec = Spec() with { YMin = 0, YMax = 1, Marks = [(0.5, "0.5"), (0.143, "0.143"), (2, "off the chart")] };
        string svg = SvgCharts.Line(spec, [new ChartSeries("fsc", [1, 2, 3], [1, 0.6, 0.1])]);
        Assert.Contains("data-mark=\"0.5\"", svg);
        Assert.Contains("data-mark=\"0.143\"", svg);
        Assert.DoesNotContain("off the chart", svg);
    }

    [Fact]
    public void AChartWithoutDataSaysSo()
    {
        string svg = SvgCharts.Line(Spec(), [new ChartSeries("s", [1, 2], [double.NaN, double.NaN])]);
        Assert.Contains(">no data<", svg);
        Parse(svg);
    }

    [Fact]
    public void AHistogramHasOneBarPerBin()
    {
        var svg = Parse(SvgCharts.Histogram(Spec(), 0, 1, [3, 0, 7, 1]));
        var bars = svg.Descendants().Single(e => e.Attribute("data-bins") is not null);
        Assert.Equal("4", bars.Attribute("data-bins")!.Value);
        Assert.Equal("11", bars.Attribute("data-total")!.Value);
        Assert.Equal(4, bars.Elements().Count());
    }
}
