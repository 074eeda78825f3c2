using System.Text.RegularExpressions;
using CryoFlow.Cli;
using CryoFlow.Pipeline.Output;
using CryoFlow.Pipeline.Simulation;
using CryoFlow.TestSupport;
using Microsoft.Playwright;
using Serilog.Core;

namespace CryoFlow.Browser.Tests;

/// <summary>
/// The run report of a real (tiny) reconstruction, opened in headless Chromium through Playwright: the page must
/// load without console errors or network requests, every image must decode, and the charts must hold the points
/// the run produced. Needs Debian's chromium: skipped without it, a failure under CI=true.
/// </summary>
public class ReportInBrowserTests
{
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    private static int Cli(params string[] args)
    {
        var output = new StringWriter();
        int code = CliApp.Run(args, output, output);
        Assert.True(code == 0, $"cryoflow {string.Join(' ', args)}: exit {code}\n{output}");
        return code;
    }

    [Fact]
    public async Task TheReportOfASmallRunLoadsInChromiumWithEveryImageAndEveryChartPoint()
    {
        string chromium = Peers.RequireChromium();
        using var dir = new TempDir();
        const int box = 32, iterations = 12;
        var sim = SimulateJob.Run(TestPaths.RealData("volumes/hand-vol.mrc"),
            new SimulateOptions(dir.File("data"), 300, VoxelSize: 3.0, Box: box, Snr: 0.2, ShiftSigma: 1, Seed: 5), Logger.None);
        string run = dir.File("run");
        Cli("reconstruct", sim.StarPath, "--out", run, "--config", Path.Combine(TestPaths.RepoRoot, "configs", "quick.json"),
            "--max-iterations", $"{iterations}", "--threads", "2", "--set", "output.mapEvery=2", "--set", "data.testSetSize=10",
            "--set", "quadrature.shiftSigma=6", "--set", "quadrature.shiftExtent=12");
        Cli("report", run, "--reference", Path.Combine(dir.File("data"), SimulateJob.TruthName));
        string report = Path.Combine(run, "report.html");
        var metrics = MetricsLog.Read(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(iterations, metrics.Count);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ChromiumArgs,
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var errors = new List<string>();
        var requests = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") lock (errors) errors.Add(m.Text); };
        page.PageError += (_, e) => { lock (errors) errors.Add(e); };
        page.Request += (_, r) => { lock (requests) requests.Add(r.Url); };
        await page.GotoAsync(new Uri(report).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load });

        // every image decodes: the final map, the filmstrip, the reference and the aligned map (six views each), the sky map
        int[] widths = await page.EvalOnSelectorAllAsync<int[]>("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)");
        Assert.Equal(Regex.Count(File.ReadAllText(report), "<img "), widths.Length);
        Assert.True(widths.Length >= 6 + 6 + 12 + 1, $"{widths.Length} images");
        Assert.All(widths, w => Assert.True(w > 0, "an image did not decode"));
        Assert.Equal(box, await page.EvalOnSelectorAsync<int>("img.view", "i => i.naturalWidth"));

        // the FSC: one point per shell up to Nyquist, and both thresholds drawn
        Assert.Equal(box / 2, await page.EvalOnSelectorAsync<int>("svg[data-chart='fsc'] polyline", "p => p.points.numberOfItems"));
        Assert.Equal(2, await page.EvalOnSelectorAllAsync<int>("svg[data-chart='fsc'] line.mark", "marks => marks.length"));
        // convergence: one point per iteration (and per held-out evaluation) against both abscissae
        int tested = metrics.Count(m => m.TestNll is not null);
        foreach (string x in new[] { "iteration", "time" })
        {
            Assert.Equal(iterations, await page.EvalOnSelectorAsync<int>($"svg[data-chart='objective-{x}'] polyline[data-series='objective']", "p => p.points.numberOfItems"));
            Assert.Equal(tested, await page.EvalOnSelectorAsync<int>($"svg[data-chart='objective-{x}'] polyline[data-series='held-out NLL']", "p => p.points.numberOfItems"));
            Assert.Equal(iterations, await page.EvalOnSelectorAsync<int>($"svg[data-chart='memory-{x}'] polyline", "p => p.points.numberOfItems"));
        }
        // every chart is laid out (not collapsed)
        double[] chartWidths = await page.EvalOnSelectorAllAsync<double[]>("svg.chart", "charts => charts.map(c => c.getBoundingClientRect().width)");
        Assert.Equal(1 + 14 + 1, chartWidths.Length);
        Assert.All(chartWidths, w => Assert.True(w > 100));

        string shot = Path.Combine(AppContext.BaseDirectory, "artifacts", "report-small-run.png");
        Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot of the report: {shot}");
        TestContext.Current.AddAttachment("report-small-run.png", await File.ReadAllBytesAsync(shot, TestContext.Current.CancellationToken), "image/png");

        Assert.Empty(errors);
        Assert.All(requests, url => Assert.True(url.StartsWith("file:", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal), $"the page fetched {url}"));
    }
}
