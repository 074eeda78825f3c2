using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using Serilog;

namespace CryoFlow.Pipeline.Stages.Extract;

/// <summary>Counts of one extraction, for the log and the console.</summary>
/// <param name="StarPath">DIR/particles.star</param>
/// <param name="Micrographs">micrographs that gave particles</param>
/// <param name="Particles">particles written</param>
/// <param name="DroppedAtEdge">picks whose box crossed a micrograph edge</param>
/// <param name="BelowMinScore">picks under the score threshold</param>
/// <param name="Rejected">windows with non-finite pixels or a flat background</param>
/// <param name="FailedMicrographs">micrographs that could not be read, with the reason</param>
/// <param name="Seconds">wall time</param>
public sealed record ExtractResult(string StarPath, int Micrographs, long Particles, long DroppedAtEdge, long BelowMinScore, long Rejected,
    IReadOnlyList<(string Micrograph, string Reason)> FailedMicrographs, double Seconds)
{
    public string Describe() =>
        $"{Particles} particles from {Micrographs} micrographs in {Seconds:F1} s ({Micrographs / Math.Max(Seconds, 1e-9):F2} micrographs/s, {Particles / Math.Max(Seconds, 1e-9):F0} particles/s); "
        + $"{DroppedAtEdge} picks too close to an edge, {BelowMinScore} below the score threshold, {Rejected} rejected (flat or non-finite)"
        + (FailedMicrographs.Count > 0 ? $"; {FailedMicrographs.Count} micrographs unreadable: {string.Join("; ", FailedMicrographs.Take(5).Select(f => $"{f.Micrograph}: {f.Reason}"))}" : "");
}

/// <summary>One micrograph extracted: the particles written to its stack, or why it could not be read.</summary>
/// <param name="Micrograph">its placed windows; null on failure</param>
/// <param name="Input">the micrograph</param>
/// <param name="Kept">indices into the placed windows of the particles written, in stack order</param>
/// <param name="Rejected">windows with non-finite pixels or a flat background</param>
/// <param name="StackReference">the stack as rlnImageName writes it</param>
/// <param name="Failure">why the micrograph could not be read; null on success</param>
public sealed record MicrographExtraction(PlannedMicrograph? Micrograph, MicrographInput Input, IReadOnlyList<int> Kept, int Rejected, string StackReference, string? Failure)
{
    public override string ToString() => Input.Path;
}

/// <summary>Progress of an extraction: micrographs done of all, particles so far.</summary>
public readonly record struct ExtractProgress(int MicrographsDone, int MicrographCount, long Particles);

/// <summary>
/// `cryoflow extract`: cuts the planned particles out of their micrographs and writes, as relion_preprocess does,
/// one stack per micrograph (DIR/&lt;micrograph&gt;_particles.mrcs) and DIR/particles.star (RELION 3.1: optics,
/// rlnImageName, rlnMicrographName, rlnCoordinateX/Y, CTF). Every file is written atomically.
/// <para>Dataflow: micrographs go in name order into a bounded block that, on up to <see cref="ExtractOptions.Threads"/>
/// threads, reads each micrograph once, whole, into the thread's buffer and streams its particles into its stack;
/// what was kept goes, in micrograph order, to a single writer of the STAR rows. Memory is one micrograph and one
/// particle per thread, whatever the number of micrographs or particles.</para>
/// </summary>
public static class ExtractJob
{
    public const string StarName = "particles.star";

    /// <summary>The stack file name of a micrograph's particles.</summary>
    public static string StackName(MicrographInput m) => m.Name + "_particles.mrcs";

    /// <summary>rlnImageName's path for a stack in <paramref name="outputDirectory"/>: relative to the working
    /// directory as RELION writes it (its jobs run in the project folder), or absolute when outside it.</summary>
    public static string StackReference(string outputDirectory, string stackName)
    {
        string full = Path.GetFullPath(Path.Combine(outputDirectory, stackName));
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, full);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? full : relative;
    }

    public static ExtractResult Run(ExtractionPlan plan, string outputDirectory, ILogger log, Action<ExtractProgress>? progress = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var options = plan.Options;
        Directory.CreateDirectory(outputDirectory);
        string starPath = Path.Combine(outputDirectory, StarName);
        List<OpticsSettings> optics = [.. plan.OpticsGroups()];
        if (optics.Count == 0)
            throw new CryoFlowDataException("nothing to extract: " + plan.Describe(), new DataLocation(Field: "micrographs", Expected: "a readable micrograph with picks", Found: "none"));
        using var star = new ParticleStarStreamWriter(starPath, optics, plan.HasCtf, hasPose: false, hasRandomSubset: false, hasOrigin: true);
        var failed = new List<(string, string)>();
        long particles = 0, dropped = 0, below = 0, rejected = 0;
        int done = 0, used = 0;
        Each(plan, outputDirectory, e =>
        {
            done++;
            if (e.Failure is not null)
            {
                failed.Add((e.Input.Path, e.Failure));
                log.Warning("Skipped micrograph {Micrograph}: {Reason}", e.Input.Path, e.Failure);
            }
            else
            {
                var p = e.Micrograph!;
                dropped += p.DroppedAtEdge;
                below += p.BelowMinScore;
                rejected += e.Rejected;
                if (e.Kept.Count > 0)
                {
                    int group = optics.IndexOf(p.Optics(options)) + 1;
                    for (int k = 0; k < e.Kept.Count; k++)
                        star.Add(group, new ParticleRef(e.StackReference, k), p.Input.Ctf?.Ctf, origin: p.Origin(e.Kept[k]));
                    particles += e.Kept.Count;
                    used++;
                }
            }
            progress?.Invoke(new ExtractProgress(done, plan.Micrographs.Count, particles));
        }, cancel);
        if (particles == 0)
            throw new CryoFlowDataException("no particles were extracted: " + plan.Describe(), new DataLocation(FilePath: outputDirectory, Expected: "at least one particle", Found: "none"));
        star.Complete();
        var result = new ExtractResult(starPath, used, particles, dropped, below, rejected, failed, clock.Elapsed.TotalSeconds);
        log.Information("Extracted {Summary} -> {Star}", result.Describe(), starPath);
        return result;
    }

    /// <summary>
    /// Extracts every planned micrograph into its stack in <paramref name="outputDirectory"/> (in parallel, each read
    /// once) and hands each outcome to <paramref name="done"/> in micrograph order, on one thread at a time.
    /// </summary>
    public static void Each(ExtractionPlan plan, string outputDirectory, Action<MicrographExtraction> done, CancellationToken cancel = default)
    {
        var options = plan.Options;
        Directory.CreateDirectory(outputDirectory);
        var extractor = new ParticleExtractor(options);
        int threads = options.ThreadCount;
        var workers = new ConcurrentBag<Worker>();

        // each worker reads its micrograph and writes its stack; only what follows needs the micrographs' order
        var cut = new TransformBlock<MicrographInput, MicrographExtraction>(m =>
        {
            var worker = workers.TryTake(out var w) ? w : new Worker(extractor.CreateWorker(), options.FinalBox);
            try
            {
                return Cut(plan, m, worker, outputDirectory);
            }
            finally
            {
                workers.Add(worker);
            }
        }, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = threads, BoundedCapacity = threads, EnsureOrdered = true, CancellationToken = cancel });

        var write = new ActionBlock<MicrographExtraction>(done,
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1, BoundedCapacity = 2 * threads, CancellationToken = cancel });
        cut.LinkTo(write, new DataflowLinkOptions { PropagateCompletion = true });
        // a failed writer stops the readers too, so the feeder below is not left waiting on a full block
        write.Completion.ContinueWith(t => ((IDataflowBlock)cut).Fault(t.Exception!), TaskContinuationOptions.OnlyOnFaulted);

        foreach (var m in plan.Micrographs)
            if (!cut.SendAsync(m, cancel).GetAwaiter().GetResult()) break;
        cut.Complete();
        write.Completion.GetAwaiter().GetResult();
        cancel.ThrowIfCancellationRequested();
    }

    /// <summary>A thread's extractor, its micrograph buffer (reused while micrographs keep their size) and one particle.</summary>
    private sealed class Worker(ParticleExtractor.Worker extractor, int box)
    {
        public ParticleExtractor.Worker Extractor { get; } = extractor;
        public float[] Micrograph { get; set; } = [];
        public float[] Particle { get; } = new float[box * box];
    }

    /// <summary>Reads one micrograph whole, cuts its particles into its stack (written atomically) and says which were kept;
    /// bad input becomes a failure, not an exception.</summary>
    private static MicrographExtraction Cut(ExtractionPlan plan, MicrographInput m, Worker worker, string outputDirectory)
    {
        PlannedMicrograph planned;
        try
        {
            planned = plan.Locate(m);
            using var reader = MrcReader.OpenStack(m.Path);
            if (worker.Micrograph.Length != reader.PixelsPerImage) worker.Micrograph = new float[reader.PixelsPerImage];
            reader.ReadImage(0, worker.Micrograph);
        }
        catch (Exception e) when (e is CryoFlowDataException or IOException)
        {
            return new MicrographExtraction(null, m, [], 0, "", e.Message);
        }
        int n = planned.Particles.Count;
        var kept = new List<int>(n);
        var options = plan.Options;
        using var stack = MrcWriter.CreateStack(Path.Combine(outputDirectory, StackName(m)), options.FinalBox, options.FinalBox,
            new MrcWriterOptions { VoxelSize = planned.Optics(options).PixelSizeAngst, Label = "CryoFlow extract" });
        for (int i = 0; i < n; i++)
        {
            var p = planned.Particles[i];
            if (worker.Extractor.Extract(worker.Micrograph, planned.Width, p.X0, p.Y0, worker.Particle) != ExtractionStatus.Ok) continue;
            stack.AppendImage(worker.Particle);
            kept.Add(i);
        }
        if (kept.Count > 0) stack.Complete(); // a micrograph without particles leaves no stack (disposing deletes the temporary file)
        return new MicrographExtraction(planned, m, kept, n - kept.Count, StackReference(outputDirectory, StackName(m)), null);
    }
}
