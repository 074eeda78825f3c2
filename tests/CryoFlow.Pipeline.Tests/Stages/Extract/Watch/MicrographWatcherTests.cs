using CryoFlow.Pipeline.Simulation;
using CryoFlow.Pipeline.Stages.Extract;
using CryoFlow.Pipeline.Stages.Extract.Watch;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Stages.Extract.Watch;

/// <summary>A simulated session to copy from, and the folders a live run watches.</summary>
internal sealed class LiveFolders
{
    public LiveFolders(TempDir dir, int micrographs, int size = 256, int perMicrograph = 6)
    {
        Session = Extract.Session.Simulate(dir.File("source"), micrographs, perMicrograph, size: size);
        Micrographs = dir.File("live/Micrographs");
        Picks = dir.File("live/picks");
        Directory.CreateDirectory(Micrographs);
        Directory.CreateDirectory(Picks);
    }

    public SimulateMicrographsResult Session { get; }

    public string Micrographs { get; }

    public string Picks { get; }

    public ExtractionSources Sources => new([Path.Combine(Micrographs, "*.mrc")], [Picks], []);

    public string Name(int m) => SimulateMicrographsJob.MicrographName(m);

    public void AddMicrograph(int m) => File.Copy(Session.MicrographPaths[m], Path.Combine(Micrographs, Name(m) + ".mrc"));

    public void AddPicks(int m) => File.Copy(Path.Combine(Session.PicksDirectory, Name(m) + SimulateMicrographsJob.PickSuffix), Path.Combine(Picks, Name(m) + SimulateMicrographsJob.PickSuffix));

    public void Add(int m)
    {
        AddMicrograph(m);
        AddPicks(m);
    }

    /// <summary>The first <paramref name="bytes"/> bytes of micrograph <paramref name="m"/>, as a copy in progress leaves it.</summary>
    public void AddPartialMicrograph(int m, int bytes)
    {
        var all = File.ReadAllBytes(Session.MicrographPaths[m]);
        File.WriteAllBytes(Path.Combine(Micrographs, Name(m) + ".mrc"), all[..bytes]);
    }
}

public class MicrographWatcherTests
{
    private static readonly ExtractOptions Box32 = new() { Box = 32, Threads = 1 };

    [Fact]
    public void AMicrographIsHandedOutOnceWhenItAndItsPicksHaveStoppedChanging()
    {
        using var dir = new TempDir();
        var live = new LiveFolders(dir, 2);
        var watcher = new MicrographWatcher(live.Sources, Box32, Logger.None);
        Assert.Empty(watcher.Poll());
        live.Add(0);
        Assert.Empty(watcher.Poll()); // first sight: not yet known to be stable
        var ready = watcher.Poll();
        Assert.Equal(["mic_000"], ready.Select(m => m.Name));
        Assert.Equal(6, ready[0].Picks.PickCount);
        Assert.Empty(watcher.Poll());
        Assert.Equal(1, watcher.Accepted);
    }

    [Fact]
    public void AHalfWrittenMicrographIsNotUsedUntilItIsComplete()
    {
        using var dir = new TempDir();
        var live = new LiveFolders(dir, 1);
        var watcher = new MicrographWatcher(live.Sources, Box32, Logger.None);
        live.AddPicks(0);
        live.AddPartialMicrograph(0, 1024 + 1000);
        // stable (nothing writes it) but shorter than its header declares: a copy that paused
        for (int i = 0; i < 3; i++) Assert.Empty(watcher.Poll());
        Assert.Equal(1, watcher.Waiting);
        File.Delete(Path.Combine(live.Micrographs, "mic_000.mrc"));
        live.AddMicrograph(0);
        Assert.Empty(watcher.Poll()); // changed since the last poll
        Assert.Equal(["mic_000"], watcher.Poll().Select(m => m.Name));
    }

    [Fact]
    public void APickFileStillGrowingIsReadOnlyOnceItStopsChanging()
    {
        using var dir = new TempDir();
        var live = new LiveFolders(dir, 1);
        var watcher = new MicrographWatcher(live.Sources, Box32, Logger.None);
        live.AddMicrograph(0);
        string picks = Path.Combine(live.Picks, "mic_000_autopick.star");
        File.WriteAllText(picks, "data_\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n100 100\n");
        Assert.Empty(watcher.Poll());
        File.AppendAllText(picks, "120 140\n130 1"); // the picker is still writing, mid-line
        Assert.Empty(watcher.Poll());
        File.AppendAllText(picks, "50\n");
        Assert.Empty(watcher.Poll());
        var ready = Assert.Single(watcher.Poll());
        Assert.Equal([(100.0, 100.0), (120.0, 140.0), (130.0, 150.0)], ready.Picks.Load().Picks.Select(p => (p.X, p.Y)));
    }

    [Fact]
    public void PicksArrivingAfterTheMicrographAreWaitedFor()
    {
        using var dir = new TempDir();
        var live = new LiveFolders(dir, 2);
        var watcher = new MicrographWatcher(live.Sources, Box32, Logger.None);
        live.AddMicrograph(0);
        live.AddMicrograph(1);
        watcher.Poll();
        Assert.Empty(watcher.Poll());
        Assert.Equal(2, watcher.Waiting);
        live.AddPicks(1);
        watcher.Poll();
        Assert.Equal(["mic_001"], watcher.Poll().Select(m => m.Name));
        Assert.Equal(1, watcher.Waiting);
    }

    [Fact]
    public void WithCtfFilesAMicrographWaitsForItsEstimate()
    {
        using var dir = new TempDir();
        var live = new LiveFolders(dir, 1);
        string ctfDir = dir.File("live/ctf");
        Directory.CreateDirectory(ctfDir);
        var watcher = new MicrographWatcher(live.Sources with { Ctf = [Path.Combine(ctfDir, "*.txt")] }, Box32, Logger.None);
        live.Add(0);
        watcher.Poll();
        Assert.Empty(watcher.Poll());
        File.WriteAllText(Path.Combine(ctfDir, "mic_000.txt"), """
            # Output from CTFFind version 4.1.14
            # Pixel size: 6.000 Angstroms ; acceleration voltage: 300.0 keV ; spherical aberration: 2.70 mm ; amplitude contrast: 0.10
            1.000000 20000.0 19500.0 30.0 0.0 0.1 12.0
            """);
        watcher.Poll();
        var ready = Assert.Single(watcher.Poll());
        Assert.Equal(20000.0, ready.Ctf!.Ctf.DefocusU);
    }

    [Fact]
    public void FileStabilityNeedsTheSameSizeAndTimeTwice()
    {
        using var dir = new TempDir();
        var s = new FileStability();
        string f = dir.WriteText("a.txt", "1");
        Assert.False(s.Observe(f));
        Assert.True(s.Observe(f));
        File.AppendAllText(f, "2");
        Assert.False(s.Observe(f));
        Assert.True(s.Observe(f));
        File.Delete(f);
        Assert.False(s.Observe(f));
        Assert.False(s.Observe(dir.File("never.txt")));
    }

    [Fact]
    public void StopConditionsAndTimeParsing()
    {
        var now = new DateTimeOffset(2025, 6, 1, 22, 0, 0, TimeSpan.Zero);
        var w = new WatchOptions(TimeSpan.FromSeconds(5), Until: now.AddHours(1), Idle: TimeSpan.FromMinutes(30));
        Assert.Null(w.StopReason(now, now));
        Assert.Contains("no new micrograph", w.StopReason(now.AddMinutes(31), now));
        Assert.Contains("--watch-until", w.StopReason(now.AddHours(1), now.AddHours(1)));
        Assert.Equal(now.AddHours(8), WatchOptions.ParseUntil("8h", now));
        Assert.Equal(new DateTimeOffset(2025, 6, 2, 8, 0, 0, TimeSpan.Zero), WatchOptions.ParseUntil("08:00", now));
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 23, 30, 0, TimeSpan.Zero), WatchOptions.ParseUntil("23:30", now));
        Assert.Throws<ArgumentException>(() => WatchOptions.ParseUntil("soon", now));
        using var dir = new TempDir();
        var f = new WatchOptions(TimeSpan.FromSeconds(1), StopFile: dir.File("STOP"));
        Assert.Null(f.StopReason(now, now));
        dir.WriteText("STOP", "");
        Assert.Contains("stop file", f.StopReason(now, now));
    }
}
