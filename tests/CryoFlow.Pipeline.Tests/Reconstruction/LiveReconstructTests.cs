using System.Text.Json;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Formats.State;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Stages.Extract;
using CryoFlow.Pipeline.Stages.Extract.Watch;
using CryoFlow.Pipeline.Tests.Stages.Extract.Watch;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

/// <summary>`reconstruct --watch`: micrographs and picks added while the run goes.</summary>
[Collection(nameof(LiveMemoryCollection))]
public class LiveReconstructTests
{
    private static readonly ExtractOptions Box32 = new() { Box = 32, Threads = 2 };

    /// <summary>Waits (a hang guard, not a timing assertion) until <paramref name="done"/> holds or the run ended.</summary>
    private static async Task WaitFor(Func<bool> done, Task run, string what)
    {
        var give = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (!done())
        {
            if (run.IsCompleted) await run; // its exception, if any
            Assert.False(run.IsCompleted, $"the run ended before {what}");
            Assert.True(DateTime.UtcNow < give, $"no {what} after 5 minutes");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private static List<JsonElement> Metrics(string run)
    {
        string path = Path.Combine(run, "metrics.jsonl");
        if (!File.Exists(path)) return [];
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var r = new StreamReader(s);
        var lines = new List<JsonElement>();
        while (r.ReadLine() is string line)
            if (line.EndsWith('}')) lines.Add(JsonDocument.Parse(line).RootElement.Clone());
        return lines;
    }

    [Fact]
    public async Task ParticlesOfNewMicrographsJoinTheRunAndHalfWrittenOnesAreLeftOut()
    {
        using var dir = new TempDir();
        var live = new LiveFolders(dir, 5, size: 256, perMicrograph: 10);
        live.Add(0);
        live.Add(1);
        string run = dir.File("run"), stop = dir.File("STOP");
        var watch = new WatchOptions(TimeSpan.FromMilliseconds(20), StopFile: stop);
        using var pool = new LiveParticles(live.Sources, Box32, watch, Logger.None);
        var config = ReconstructJobTests.Quick(100_000, "data.minibatchSize=10", "output.checkpoint.everyIterations=25", "output.mapEvery=0");
        var request = new ReconstructRequest(dir.File("live.json"), run, config) { Live = pool };
        var cancel = TestContext.Current.CancellationToken;
        var task = Task.Run(() => ReconstructJob.Run(request, Logger.None, cancel: cancel), cancel);

        await WaitFor(() => Metrics(run).Count >= 3, task, "iterations on the first two micrographs");
        Assert.All(Metrics(run), m => Assert.Equal(20, m.GetProperty("particles").GetInt32()));
        int training = Metrics(run)[0].GetProperty("trainingParticles").GetInt32(); // the rest is the held-out set
        // two whole micrographs and one a copy has left half written, with its picks
        live.Add(2);
        live.Add(3);
        live.AddPicks(4);
        live.AddPartialMicrograph(4, 1024 + 3000);
        await WaitFor(() => Metrics(run).LastOrDefault() is { } m && m.GetProperty("trainingParticles").GetInt32() == training + 20, task, "the new particles in the minibatches");
        int joined = Metrics(run).Count;
        // two epochs of the grown plan (at most 4 + 4 minibatches each) visit every new particle
        await WaitFor(() => Metrics(run).Count >= joined + 16, task, "two epochs after the new particles joined");
        File.WriteAllText(stop, "");
        var result = await task;

        Assert.Equal(StopReason.WatchEnded, result.Reason);
        var metrics = Metrics(run);
        Assert.Equal(20, metrics[0].GetProperty("particles").GetInt32());
        Assert.Equal(40, metrics[^1].GetProperty("particles").GetInt32());
        // particles.star: every particle of micrographs 0-3 with a pose the run found, none of the half-written one
        var rows = StarDocument.Read(result.ParticlesStarPath).Get("particles").RequireLoop();
        Assert.Equal(40, rows.RowCount);
        int mic = rows.IndexOf(RelionLabels.MicrographName), p = rows.IndexOf(RelionLabels.MaxValueProbDistribution);
        var micrographs = Enumerable.Range(0, 40).Select(r => Path.GetFileName(rows.GetString(r, mic))).ToList();
        Assert.DoesNotContain("mic_004.mrc", micrographs);
        Assert.Equal(10, micrographs.Count(m => m == "mic_003.mrc"));
        for (int r = 20; r < 40; r++) Assert.True(rows.GetDouble(r, p) > 0, $"particle {r} ({micrographs[r]}) has no pose from the run");
        Assert.Equal(training + 20, metrics[^1].GetProperty("trainingParticles").GetInt32()); // the held-out set did not change
        // nothing of the micrographs stays in memory: the pool holds a window per particle, the catalog is on disk
        Assert.Equal(4, pool.Micrographs);
        long grew = metrics[^1].GetProperty("managedHeapBytes").GetInt64() - metrics[0].GetProperty("managedHeapBytes").GetInt64();
        Assert.True(grew < 64L << 20, $"the managed heap grew by {grew:N0} bytes");
    }

    [Fact]
    public void ThePoolHoldsNoPixelsWhateverTheNumberOfMicrographs()
    {
        // micrographs of 512 px (1 MiB each): holding any of them would show at once
        using var dir = new TempDir();
        var live = new LiveFolders(dir, 16, size: 512, perMicrograph: 10);
        using var pool = new LiveParticles(live.Sources, Box32, new WatchOptions(TimeSpan.FromSeconds(1)), Logger.None);
        var pixels = new float[32 * 32];
        var samples = new List<long>();
        for (int m = 0; m < 16; m++)
        {
            live.Add(m);
            pool.Poll();
            pool.Poll(); // stable now: taken
            for (int i = 0; i < pool.Count; i++) pool.Read(i, pixels); // every particle cut from its micrograph
            samples.Add(ProcessMemory.Sample().ManagedHeapBytes);
        }
        Assert.Equal(160, pool.Count);
        Assert.Equal(160, pool.Catalog.Count);
        Assert.EndsWith("mic_015.mrc", pool.Catalog.OriginOf(159)!.Value.MicrographName);
        long growth = samples[^1] - samples[3];
        Assert.True(growth < 512 * 1024, $"managed heap grew by {growth} bytes over 12 micrographs: {string.Join(", ", samples)}");
    }
}
