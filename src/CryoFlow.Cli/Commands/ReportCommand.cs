using System.CommandLine;
using System.Globalization;
using CryoFlow.Pipeline.Evaluation;
using CryoFlow.Pipeline.Report;

namespace CryoFlow.Cli.Commands;

/// <summary>
/// `cryoflow report RUN [--out RUN/report.html] [--reference truth.mrc] [--log RUN/run.log]`: the run's report page
/// (<see cref="RunReport"/>), the same one `reconstruct` writes at its end; with a reference, the map is aligned to
/// it and the FSC added.
/// </summary>
public static class ReportCommand
{
    public static Command Create(ConsoleIo io)
    {
        var run = new Argument<DirectoryInfo>("run") { Description = "Run folder (the --out of reconstruct)." };
        var output = new Option<FileInfo?>("--out") { Description = "Where to write the page (default RUN/report.html)." };
        var reference = new Option<FileInfo?>("--reference") { Description = "A reference map (e.g. the truth of a simulation, same box): the run's map is aligned to it (rotation, shift, hand) and the FSC shown." };
        var logFile = new Option<FileInfo?>("--log") { Description = "The run's log, when it is not RUN/run.log." };
        var command = new Command("report", "Write a run's report: one self-contained HTML page with the map, the convergence, the FSC against a reference, the views, and the run's settings and warnings.")
        {
            run, output, reference, logFile,
        };
        command.SetAction(pr =>
        {
            var result = RunReport.Write(pr.GetValue(run)!.FullName, new RunReportOptions
            {
                OutputPath = pr.GetValue(output)?.FullName,
                ReferencePath = pr.GetValue(reference)?.FullName,
                LogPath = pr.GetValue(logFile)?.FullName,
            });
            if (result.Comparison is { } c)
            {
                io.Out.WriteLine(MapComparison.DescribeAlignment(c.Alignment!, "the map", "the reference"));
                io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"resolution at FSC 0.5: {c.Fsc.ResolutionAt(0.5):F2} Å; at FSC 0.143: {c.Fsc.ResolutionAt(0.143):F2} Å"));
            }
            io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"report {result.Path} ({result.Bytes / 1024.0:F0} KiB)"));
            return ExitCodes.Ok;
        });
        return command;
    }
}
