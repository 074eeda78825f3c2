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

/// <summary>Progress of an extraction: micrographs done of all, particles so far.</summary>
public readonly record struct ExtractProgress(int MicrographsDone, int MicrographCount, long Particles);

/// <summary>
/// `cryoflow extract`: cuts the planned particles out of their micrographs and writes, as relion_preprocess does,
/// one stack per micrograph (DIR/&lt;micrograph&gt;_particles.mrcs) and DIR/particles.star (RELION 3.1: optics,
/// rlnImageName, rlnMicrographName, rlnCoordinateX/Y, CTF). Every file is written atomically.
/// <para>Dataflow: micrographs go in name order into a bounded block that, on up to <see cref="ExtractOptions.Threads"/>
/// threads, reads each micrograph once, whole, and cuts all of its particles; its output goes, in order, to a
/// single writer. At most a few micrographs are in memory at any time, whatever their number.</para>
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

    private sealed record Extracted(PlannedMicrograph? Micrograph, MicrographInput Input, float[] Images, int[] Kept, int Rejected, string? Failure)
    {
        public override string ToString() => Input.Path;
    }

    public static ExtractResult Run(ExtractionPlan plan, string outputDirectory, ILogger log, Action<ExtractProgress>? progress = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var options = plan.Options;
        Directory.CreateDirectory(outputDirectory);
        var extractor = new ParticleExtractor(options);
        var workers = new ConcurrentBag<ParticleExtractor.Worker>();
        var buffers = new Buffers();
        int threads = options.ThreadCount;
        int box2 = options.FinalBox * options.FinalBox;

        string starPath = Path.Combine(outputDirectory, StarName);
        List<OpticsSettings> optics = [.. plan.OpticsGroups()];
        if (optics.Count == 0)
            throw new CryoFlowDataException("nothing to extract: " + plan.Describe(), new DataLocation(Field: "micrographs", Expected: "a readable micrograph with picks", Found: "none"));
        using var star = new ParticleStarStreamWriter(starPath, optics, plan.HasCtf, hasPose: false, hasRandomSubset: false, hasOrigin: true);
        var failed = new List<(string, string)>();
        long particles = 0, dropped = 0, below = 0, rejected = 0;
        int done = 0, used = 0;

        var cut = new TransformBlock<MicrographInput, Extracted>(m =>
        {
            var worker = workers.TryTake(out var w) ? w : extractor.CreateWorker();
            try
            {
                return Cut(plan, m, worker, buffers, box2);
            }
            finally
            {
                workers.Add(worker);
            }
        }, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = threads, BoundedCapacity = threads, EnsureOrdered = true, CancellationToken = cancel });

        var write = new ActionBlock<Extracted>(e =>
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
                if (e.Kept.Length > 0)
                {
                    var settings = p.Optics(options);
                    int group = optics.IndexOf(settings) + 1;
                    string stackName = StackName(p.Input);
                    string reference = StackReference(outputDirectory, stackName);
                    using (var stack = MrcWriter.CreateStack(Path.Combine(outputDirectory, stackName), options.FinalBox, options.FinalBox,
                        new MrcWriterOptions { VoxelSize = settings.PixelSizeAngst, Label = "CryoFlow extract" }))
                    {
                        for (int k = 0; k < e.Kept.Length; k++)
                        {
                            stack.AppendImage(e.Images.AsSpan(k * box2, box2));
                            star.Add(group, new ParticleRef(reference, k), p.Input.Ctf?.Ctf, origin: p.Origin(e.Kept[k]));
                        }
                        stack.Complete();
                    }
                    particles += e.Kept.Length;
                    used++;
                }
            }
            buffers.Return(e.Images);
            progress?.Invoke(new ExtractProgress(done, plan.Micrographs.Count, particles));
        }, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1, BoundedCapacity = 2, CancellationToken = cancel });
        cut.LinkTo(write, new DataflowLinkOptions { PropagateCompletion = true });
        // a failed writer stops the readers too, so the feeder below is not left waiting on a full block
        write.Completion.ContinueWith(t => ((IDataflowBlock)cut).Fault(t.Exception!), TaskContinuationOptions.OnlyOnFaulted);

        foreach (var m in plan.Micrographs)
            if (!cut.SendAsync(m, cancel).GetAwaiter().GetResult()) break;
        cut.Complete();
        write.Completion.GetAwaiter().GetResult();
        cancel.ThrowIfCancellationRequested();
        if (particles == 0)
            throw new CryoFlowDataException("no particles were extracted: " + plan.Describe(), new DataLocation(FilePath: outputDirectory, Expected: "at least one particle", Found: "none"));
        star.Complete();
        var result = new ExtractResult(starPath, used, particles, dropped, below, rejected, failed, clock.Elapsed.TotalSeconds);
        log.Information("Extracted {Summary} -> {Star}", result.Describe(), starPath);
        return result;
    }

    /// <summary>Reads one micrograph whole and cuts all its particles (bad input becomes a failure, not an exception).</summary>
    private static Extracted Cut(ExtractionPlan plan, MicrographInput m, ParticleExtractor.Worker worker, Buffers buffers, int box2)
    {
        PlannedMicrograph planned;
        float[] pixels;
        try
        {
            planned = plan.Locate(m);
            using var reader = MrcReader.OpenStack(m.Path);
            pixels = buffers.Rent(reader.PixelsPerImage);
            reader.ReadImage(0, pixels);
        }
        catch (Exception e) when (e is CryoFlowDataException or IOException)
        {
            return new Extracted(null, m, [], [], 0, e.Message);
        }
        try
        {
            int n = planned.Particles.Count;
            var images = buffers.Rent(n * box2);
            var kept = new List<int>(n);
            for (int i = 0; i < n; i++)
            {
                var p = planned.Particles[i];
                if (worker.Extract(pixels, planned.Width, p.X0, p.Y0, images.AsSpan(kept.Count * box2, box2)) == ExtractionStatus.Ok) kept.Add(i);
            }
            return new Extracted(planned, m, images, [.. kept], n - kept.Count, null);
        }
        finally
        {
            buffers.Return(pixels);
        }
    }

    /// <summary>Reused float arrays (micrographs, particle images of a micrograph): a few in flight, never one per micrograph.</summary>
    private sealed class Buffers
    {
        private readonly ConcurrentBag<float[]> _free = [];

        public float[] Rent(int length)
        {
            for (int tries = _free.Count; tries > 0 && _free.TryTake(out var b); tries--)
            {
                if (b.Length >= length) return b;
                if (b.Length > 0) _free.Add(b);
            }
            return new float[length];
        }

        public void Return(float[] buffer)
        {
            if (buffer.Length > 0 && _free.Count < 16) _free.Add(buffer);
        }
    }
}
