using CryoFlow.Pipeline.Report;
using CryoFlow.TestSupport;

namespace CryoFlow.Pipeline.Tests.Report;

public class RunLogSummaryTests
{
    [Fact]
    public void TakesVersionCommandInputAndProblemsWithoutStackTraceLines()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("run.log"), SyntheticRun.LogText);
        var log = RunLogSummary.Read(dir.File("run.log"));
        Assert.Equal("9.8.7", log.Version);
        Assert.Equal("cryoflow reconstruct particles.star --out run", log.CommandLine);
        Assert.StartsWith("5000 particles, box 128", log.InputLine);
        Assert.Equal(2, log.ProblemCount);
        Assert.Contains("WRN Rejected", log.Problems[0]);
        Assert.Contains("ERR Something", log.Problems[1]);
    }

    [Fact]
    public void ALogAppendedByASecondRunIsReadFromTheSecondRunOn()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("run.log"), SyntheticRun.LogText.ReplaceLineEndings("\n") + "\n" + """
            2026-02-03 04:05:06.000 INF cryoflow 9.8.8: cryoflow reconstruct particles.star --out run --seed 2
            2026-02-03 04:05:07.000 INF 4999 particles, box 128, 1.5 Å/px; 200 held out
            2026-02-03 04:05:08.000 WRN only this warning
            """);
        var log = RunLogSummary.Read(dir.File("run.log"));
        Assert.Equal("9.8.8", log.Version);
        Assert.EndsWith("--seed 2", log.CommandLine);
        Assert.StartsWith("4999 particles", log.InputLine);
        Assert.Equal(["2026-02-03 04:05:08.000 WRN only this warning"], log.Problems);
        Assert.Equal(3, log.FirstLines.Count);
    }

    [Fact]
    public void AProblemCapKeepsTheCount()
    {
        using var dir = new TempDir();
        File.WriteAllLines(dir.File("run.log"), Enumerable.Range(0, 30).Select(i => $"2026-01-01 00:00:{i:D2}.000 WRN warning {i}"));
        var log = RunLogSummary.Read(dir.File("run.log"), maxProblems: 10);
        Assert.Equal(30, log.ProblemCount);
        Assert.Equal(10, log.Problems.Count);
        Assert.Null(log.Version);
    }

    [Fact]
    public void ReadsALogThatIsStillOpenForWriting()
    {
        using var dir = new TempDir();
        using var writer = new StreamWriter(new FileStream(dir.File("run.log"), FileMode.Create, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        writer.WriteLine("2026-01-01 00:00:00.000 INF cryoflow 1.0: cryoflow reconstruct x --out y");
        Assert.Equal("1.0", RunLogSummary.Read(dir.File("run.log")).Version);
    }
}
