using CryoFlow.Formats.Checkpoints;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Pipeline.Output;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Stages.Read;
using CryoFlow.TestSupport;
using Serilog.Events;
using static CryoFlow.Pipeline.Tests.Reconstruction.TinyRuns;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

/// <summary>Faults injected through the file-access layer of a real run: flaky and short reads, a dead particle, a truncated stack, a full disk.</summary>
public class ReconstructFaultTests
{
    /// <summary>
    /// Some reads fail once with a transient I/O error, others with a short read (an <see cref="EndOfStreamException"/>
    /// after part of the pixels); the retry then succeeds. Which reads fail depends only on the particle and how often it
    /// was read, never on the threads' interleaving, so runs stay comparable. Particle <see cref="Dead"/> always fails.
    /// </summary>
    private sealed class FlakyImages(IParticleImageSource inner) : IParticleImageSource
    {
        public const int Dead = 17;
        private readonly Dictionary<int, (int Visits, bool Retrying)> _state = [];

        public void Read(int index, Span<float> destination)
        {
            if (index == Dead) throw new IOException("simulated: input/output error on the device");
            int visit;
            lock (_state)
            {
                var (visits, retrying) = _state.GetValueOrDefault(index);
                if (retrying)
                {
                    _state[index] = (visits, false);
                    visit = 0; // the retry succeeds
                }
                else
                {
                    visit = visits + 1;
                    bool fails = (31 * index + visit) % 7 == 0 || (31 * index + visit) % 11 == 0;
                    _state[index] = (visit, fails);
                    if (!fails) visit = 0;
                }
            }
            if (visit > 0 && (31 * index + visit) % 7 == 0) throw new IOException($"simulated: connection reset (particle {index}, visit {visit})");
            inner.Read(index, destination);
            if (visit > 0)
            {
                destination[(destination.Length / 3)..].Clear(); // what a read cut short leaves
                throw new EndOfStreamException($"simulated short read: {destination.Length / 3} of {destination.Length} pixels (particle {index}, visit {visit})");
            }
        }
    }

    /// <summary>The simulated particles plus three rows in a stack cut short in its third image.</summary>
    private static string WithTruncatedStack(TempDir dir)
    {
        var sim = Simulate(dir.File("data"));
        string stack = Path.Combine(dir.File("data"), "short.mrcs");
        using (var w = MrcWriter.CreateStack(stack, 32, 32, new MrcWriterOptions { VoxelSize = 6 }))
        {
            for (int i = 0; i < 3; i++) w.AppendImage(new float[32 * 32]);
            w.Complete();
        }
        using (var f = new FileStream(stack, FileMode.Open)) f.SetLength(f.Length - 1000);
        var doc = StarDocument.Read(sim.StarPath);
        var rows = doc.Get("particles").RequireLoop();
        int name = rows.RequireColumn("rlnImageName");
        for (int i = 1; i <= 3; i++)
        {
            rows.AddRow(Enumerable.Range(0, rows.ColumnCount).Select(c => rows.GetString(0, c)).ToArray());
            rows.SetString(rows.RowCount - 1, name, $"{i:D6}@short.mrcs");
        }
        string star = Path.Combine(dir.File("data"), "with-faults.star");
        doc.Write(star);
        return star;
    }

    private static ReconstructRequest Request(string star, string run, FlakyImages? images = null, CheckpointFileSystem? disk = null) =>
        new(star, run, Config(24))
        {
            ImageSource = inner => images ?? new FlakyImages(inner),
            ReadRetry = new ReadRetryOptions(3, TimeSpan.FromMilliseconds(1)),
            CheckpointFiles = disk,
        };

    [Fact]
    public void ReadFaultsAreRetriedOrQuarantinedAndAFullDiskStopsTheRunLeavingThePreviousCheckpointToResumeFrom()
    {
        using var dir = new TempDir();
        string star = WithTruncatedStack(dir);
        using var log = new LogCapture();
        var straight = Run(Request(star, dir.File("straight")), log.Logger);

        // transient errors and short reads were retried and logged; the dead particle and the truncated stack's rows were quarantined
        var warnings = log.Messages(LogEventLevel.Warning);
        Assert.Contains(warnings, m => m.Contains("connection reset") && m.Contains("retry 1 of 3"));
        Assert.Contains(warnings, m => m.Contains("short read") && m.Contains("retry"));
        Assert.Equal(4, straight.Rejected);
        var rejected = StarDocument.Read(Path.Combine(dir.File("straight"), "rejected.star")).Get("particles").RequireLoop();
        var reasons = Enumerable.Range(0, rejected.RowCount).Select(r => (Name: rejected.GetString(r, "rlnImageName"), Reason: rejected.GetString(r, RejectedParticles.ReasonLabel))).ToList();
        Assert.Contains(reasons, r => r.Reason.Contains("input/output error") && r.Reason.Contains("after retries"));
        Assert.Equal(3, reasons.Count(r => r.Name.EndsWith("@short.mrcs", StringComparison.Ordinal) && r.Reason.Contains("short.mrcs")));

        // the same run on a disk that fills up while the checkpoint after iteration 12 is written
        string run = dir.File("run");
        var disk = new FaultyCheckpointFiles();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var e = Assert.Throws<CheckpointWriteException>(() => ReconstructJob.Run(Request(star, run, disk: disk), Serilog.Core.Logger.None,
            p => { if (p.Iteration == 12) disk.BytesLeft = 3000; }, cancel.Token));
        Assert.Contains("No space left on device", e.Message);
        Assert.Contains("iteration 11) is intact", e.Message);
        var folder = RunCheckpoint.Folder(run);
        Assert.Equal([11, 10, 9, 0], folder.List().Select(c => c.Iteration));
        Assert.Equal(["ckpt-00000000", "ckpt-00000009", "ckpt-00000010", "ckpt-00000011"], Directory.EnumerateDirectories(folder.Root).Select(Path.GetFileName).Order());
        Assert.False(File.Exists(Path.Combine(run, "map.mrc")), "no final map after a failed checkpoint");
        RunCheckpoint.Read(folder.List()[0]); // whole and verified

        // space freed: the run resumes from iteration 11 and ends as if nothing had happened
        disk.BytesLeft = long.MaxValue;
        var resumed = Run(Request(star, run, disk: disk) with { ResumeFrom = Latest(run) });
        Assert.Equal(11, resumed.ResumedFrom);
        Assert.Equal(File.ReadAllBytes(straight.MapPath), File.ReadAllBytes(resumed.MapPath));
        Assert.Equal(File.ReadAllBytes(straight.ParticlesStarPath), File.ReadAllBytes(resumed.ParticlesStarPath));
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("straight"), "rejected.star")), File.ReadAllBytes(Path.Combine(run, "rejected.star")));
    }
}
