using CryoFlow.Formats.Particles;
using CryoFlow.Formats.State;
using CryoFlow.Pipeline.Stages.Extract;
using CryoFlow.Pipeline.Stages.Extract.Watch;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Stages.Extract.Watch;

/// <summary>Managed memory measured alone in the process.</summary>
[CollectionDefinition(nameof(LiveMemoryCollection), DisableParallelization = true)]
public sealed class LiveMemoryCollection;

/// <summary>Live extraction: files added while the run polls, half-written files left alone, memory bounded.</summary>
[Collection(nameof(LiveMemoryCollection))]
public class LiveExtractJobTests
{
    private static readonly ExtractOptions Box32 = new() { Box = 32, Threads = 2 };

    /// <summary>A run whose waits between polls play a script: step i runs before poll i + 1; a fake clock advances a minute a poll.</summary>
    private static LiveExtractResult RunScript(LiveFolders live, string output, WatchOptions watch, IReadOnlyList<Action> script, List<LiveProgress> progress)
    {
        var now = new DateTimeOffset(2025, 6, 1, 22, 0, 0, TimeSpan.Zero);
        int step = 0;
        return LiveExtractJob.Run(live.Sources, Box32, watch, output, Logger.None, progress.Add, TestContext.Current.CancellationToken,
            clock: () => now,
            wait: (_, _) =>
            {
                now = now.AddMinutes(1);
                if (step < script.Count) script[step]();
                step++;
            });
    }

    [Fact]
    public void NewMicrographsAreExtractedAsTheyAppearAndHalfWrittenOnesWait()
    {
        using var dir = new TempDir();
        var live = new LiveFolders(dir, 3);
        var progress = new List<LiveProgress>();
        int[] countsSeen = new int[8];
        string star = dir.File("out/particles.star");
        int Rows() => File.Exists(star) ? ParticleTable.Read(star).Count : 0;
        var script = new List<Action>
        {
            () => live.Add(0),                                              // poll 2 sees it, poll 3 takes it
            () => { live.AddPicks(1); live.AddPartialMicrograph(1, 3000); },
            () => countsSeen[3] = Rows(),                                   // after poll 3: mic 0 only
            () => countsSeen[4] = Rows(),                                   // mic 1 still half written
            () => { File.Delete(Path.Combine(live.Micrographs, "mic_001.mrc")); live.AddMicrograph(1); live.Add(2); },
        };
        var result = RunScript(live, dir.File("out"), new WatchOptions(TimeSpan.FromSeconds(10), Idle: TimeSpan.FromMinutes(5)), script, progress);

        Assert.Equal(6, countsSeen[3]);
        Assert.Equal(6, countsSeen[4]);
        Assert.Equal((3, 18), (result.Micrographs, result.Particles));
        Assert.Contains("no new micrograph", result.Reason);
        Assert.Equal([6, 18], progress.Select(p => p.Particles));
        Assert.Equal([6, 12], progress.Select(p => p.NewParticles));
        var table = ParticleTable.Read(result.StarPath);
        Assert.Equal(18, table.Count);
        Assert.EndsWith("mic_001.mrc", table.ParticleBlock.Loop!.GetString(6, RelionLabels.MicrographName));
        using var images = new ParticleImageReader(table);
        images.Check(17);
    }

    [Fact]
    public void AStopFileEndsTheRun()
    {
        using var dir = new TempDir();
        var live = new LiveFolders(dir, 1);
        string stop = dir.File("STOP");
        var script = new List<Action> { () => live.Add(0), () => { }, () => File.WriteAllText(stop, "") };
        var result = RunScript(live, dir.File("out"), new WatchOptions(TimeSpan.FromSeconds(1), StopFile: stop), script, []);
        Assert.Contains("stop file", result.Reason);
        Assert.Equal(6, result.Particles);
    }

    [Fact]
    public void MemoryDoesNotGrowWithTheMicrographsSeen()
    {
        // micrographs of 512 px (1 MiB each): holding any of them would show at once
        using var dir = new TempDir();
        var live = new LiveFolders(dir, 16, size: 512, perMicrograph: 10);
        var samples = new List<long>();
        var script = new List<Action>();
        for (int m = 0; m < 16; m++)
        {
            int k = m;
            script.Add(() => live.Add(k));
            script.Add(() => samples.Add(ProcessMemory.Sample().ManagedHeapBytes));
        }
        var result = RunScript(live, dir.File("out"), new WatchOptions(TimeSpan.FromSeconds(1), Idle: TimeSpan.FromMinutes(3)), script, []);
        Assert.Equal(160, result.Particles);
        // from 4 to 16 micrographs seen: 12 MiB of micrographs read; the pool's metadata for 120 particles is a few kB
        long growth = samples[^1] - samples[3];
        Assert.True(growth < 512 * 1024, $"managed heap grew by {growth} bytes over 12 micrographs: {string.Join(", ", samples)}");
    }
}
