using System.Diagnostics;
using CryoFlow.Formats.Coordinates;
using CryoFlow.Formats.Particles;
using Serilog;

namespace CryoFlow.Pipeline.Stages.Extract.Watch;

/// <summary>A live extraction's state after a poll.</summary>
/// <param name="Micrographs">micrographs extracted so far</param>
/// <param name="Particles">particles in particles.star now</param>
/// <param name="Waiting">micrographs seen but not ready yet</param>
/// <param name="NewParticles">particles added by this poll</param>
public readonly record struct LiveProgress(int Micrographs, int Particles, int Waiting, int NewParticles);

/// <summary>How a live extraction ended.</summary>
public sealed record LiveExtractResult(string StarPath, int Micrographs, int Particles, long DroppedAtEdge, string Reason, double Seconds);

/// <summary>
/// `cryoflow extract --watch`: extraction during a collection session. Polls for micrographs that have become ready
/// (<see cref="MicrographWatcher"/>), extracts each into its stack as `cryoflow extract` does, adds its particles to the
/// pool, and rewrites DIR/particles.star (atomically) with every particle so far, so another program can start on it at
/// any moment. Ends at <see cref="WatchOptions.Until"/>, after an idle period, when a stop file appears, or when
/// cancelled; the last poll's micrographs are finished first. Memory: the pool's metadata, one micrograph and one
/// particle per thread.
/// </summary>
public static class LiveExtractJob
{
    /// <param name="sources">micrograph, coordinate and CTF patterns (files arrive later)</param>
    /// <param name="options">extraction settings</param>
    /// <param name="watch">poll interval and when to stop</param>
    /// <param name="outputDirectory">DIR</param>
    /// <param name="log">log</param>
    /// <param name="progress">after each poll that found something</param>
    /// <param name="cancel">stops between polls</param>
    /// <param name="clock">the time (tests); default the system clock</param>
    /// <param name="wait">waits a poll interval (tests); default a cancellable delay</param>
    public static LiveExtractResult Run(ExtractionSources sources, ExtractOptions options, WatchOptions watch, string outputDirectory, ILogger log,
        Action<LiveProgress>? progress = null, CancellationToken cancel = default, Func<DateTimeOffset>? clock = null, Action<TimeSpan, CancellationToken>? wait = null)
    {
        watch.Validate();
        clock ??= () => DateTimeOffset.Now;
        wait ??= (t, c) => c.WaitHandle.WaitOne(t);
        var stopwatch = Stopwatch.StartNew();
        var watcher = new MicrographWatcher(sources, options, log);
        var pool = new ParticlePool(options);
        string starPath = Path.Combine(outputDirectory, ExtractJob.StarName);
        Directory.CreateDirectory(outputDirectory);
        var lastNew = clock();
        string reason;
        log.Information("Watching for micrographs every {Poll}: {Micrographs}, picks {Coordinates}", watch.PollInterval, string.Join(" ", sources.Micrographs), string.Join(" ", sources.Coordinates));
        while (true)
        {
            var ready = watcher.Poll();
            if (ready.Count > 0)
            {
                int before = pool.Count;
                var plan = new ExtractionPlan(options, ready, new MatchReport([], [], []), [], [], sources.Ctf.Count > 0);
                ExtractJob.Each(plan, outputDirectory, e =>
                {
                    if (e.Failure is not null) log.Warning("Skipped micrograph {Micrograph}: {Reason}", e.Input.Path, e.Failure);
                    else pool.Add(e.Micrograph!, e.Kept, e.StackReference);
                }, cancel);
                if (pool.Count > 0) ParticleStarWriter.Write(starPath, pool.BuildTable());
                lastNew = clock();
                log.Information("{New} new micrographs: {Particles} particles from {Micrographs} micrographs so far ({Waiting} waiting)",
                    ready.Count, pool.Count, pool.MicrographCount, watcher.Waiting);
                progress?.Invoke(new LiveProgress(pool.MicrographCount, pool.Count, watcher.Waiting, pool.Count - before));
            }
            if (cancel.IsCancellationRequested) { reason = "cancelled"; break; }
            if (watch.StopReason(clock(), lastNew) is string why) { reason = why; break; }
            wait(watch.PollInterval, cancel);
        }
        log.Information("Stopped watching ({Reason}): {Particles} particles from {Micrographs} micrographs in {Star}", reason, pool.Count, pool.MicrographCount, starPath);
        return new LiveExtractResult(starPath, pool.MicrographCount, pool.Count, pool.DroppedAtEdge, reason, stopwatch.Elapsed.TotalSeconds);
    }
}
