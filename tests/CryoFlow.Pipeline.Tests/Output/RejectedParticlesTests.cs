using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Pipeline.Output;
using CryoFlow.TestSupport;

namespace CryoFlow.Pipeline.Tests.Output;

public class RejectedParticlesTests
{
    [Fact]
    public void RejectedStarHoldsTheOriginalRowsWithTheirReasons()
    {
        var table = ParticleTable.Read(TestPaths.RealData("real/relion31.star"));
        var rejected = new RejectedParticles();
        Assert.True(rejected.Add(3, "particle 3: pixel 7 is NaN"));
        Assert.True(rejected.Add(1, "image 000002@relion31.mrcs: truncated"));
        Assert.False(rejected.Add(3, "second reason is ignored"));
        using var dir = new TempDir();
        rejected.Write(dir.File("rejected.star"), table);

        var back = ParticleTable.Read(dir.File("rejected.star"));
        Assert.Equal(2, back.Count);
        Assert.Equal(table[1].Ctf, back[0].Ctf);
        Assert.Equal(table[3].Pose, back[1].Pose);
        Assert.Equal(table[3].Image, back[1].Image);
        var loop = StarDocument.Read(dir.File("rejected.star")).Get("particles").RequireLoop();
        int reason = loop.RequireColumn(RejectedParticles.ReasonLabel);
        Assert.Equal("image 000002@relion31.mrcs: truncated", loop.GetString(0, reason));
        Assert.Equal("particle 3: pixel 7 is NaN", loop.GetString(1, reason));
        Assert.Equal(table.ParticleBlock.RequireLoop().ColumnCount + 1, loop.ColumnCount);
    }

    [Fact]
    public void NothingIsWrittenWhenNothingWasRejected()
    {
        using var dir = new TempDir();
        new RejectedParticles().Write(dir.File("rejected.star"), ParticleTable.Read(TestPaths.RealData("real/relion31.star")));
        Assert.False(File.Exists(dir.File("rejected.star")));
    }
}

public class MetricsLogTests
{
    [Fact]
    public void LinesRoundTripAndOptionalFieldsAreOmitted()
    {
        using var dir = new TempDir();
        string path = dir.File("metrics.jsonl");
        using (var log = new MetricsLog(path))
        {
            log.Append(new IterationMetrics { Iteration = 1, WallSeconds = 0.5, MaxFrequency = 0.02, Lipschitz = 3, StepSize = 1, Objective = 12.5, QuadratureFraction = 1, ParticlesPerSecond = 100, ResidentBytes = 1 << 20 });
            log.Append(new IterationMetrics { Iteration = 2, WallSeconds = 1.0, MaxFrequency = 0.025, Lipschitz = 2.5, StepSize = 0.5, Objective = 11, TestNll = 10.5, TestRremse = 1.2, QuadratureFraction = 0.01, ParticlesPerSecond = 120, ResidentBytes = 2 << 20 });
        }
        string[] lines = File.ReadAllLines(path);
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain("testNll", lines[0]);
        Assert.Contains("\"testNll\":10.5", lines[1]);
        var back = MetricsLog.Read(path);
        Assert.Equal(0.025, back[1].MaxFrequency);
        Assert.Equal(40, back[1].Resolution, 9);
    }

    private static IterationMetrics Line(long it) => new()
    {
        Iteration = it, WallSeconds = it, MaxFrequency = 0.02, Lipschitz = 1, StepSize = 0.1, Objective = 600 - it, QuadratureFraction = 1,
        ParticlesPerSecond = 100, ResidentBytes = 1 << 20,
    };

    [Fact]
    public void ANewLogStartsEmptyAndAResumedOneContinuesFromTheCheckpointsLength()
    {
        using var dir = new TempDir();
        string path = dir.File("metrics.jsonl");
        File.WriteAllText(path, "{\"iteration\": 99} from an earlier run\n");
        long atCheckpoint;
        using (var log = new MetricsLog(path))
        {
            Assert.Equal(0, log.Length);
            for (int it = 1; it <= 3; it++) log.Append(Line(it));
            atCheckpoint = log.Length;
            log.Append(Line(4));
            log.Append(Line(5));
        }
        Assert.Equal([1, 2, 3, 4, 5], MetricsLog.Read(path).Select(m => m.Iteration));

        Assert.True(MetricsLog.Truncate(path, atCheckpoint));
        Assert.False(MetricsLog.Truncate(path, atCheckpoint));
        using (var log = new MetricsLog(path, append: true))
        {
            Assert.Equal(atCheckpoint, log.Length);
            log.Append(Line(4));
        }
        Assert.Equal([1, 2, 3, 4], MetricsLog.Read(path).Select(m => m.Iteration));
        Assert.Throws<InvalidDataException>(() => MetricsLog.Truncate(path, 1 << 20));
    }
}
