using System.Globalization;
using CryoFlow.Pipeline.Configuration;
using Serilog;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>The sizes a run's memory is made of: the box, the finest stage's quadrature, the threads, the minibatch and the dataset.</summary>
/// <param name="Box">D</param>
/// <param name="Particles">N</param>
/// <param name="Threads">workers</param>
/// <param name="MinibatchSize">particles per minibatch</param>
/// <param name="TestSetSize">held-out particles (kept prepared)</param>
/// <param name="Directions">directions of the finest stage</param>
/// <param name="InPlane">in-plane angles of the finest stage</param>
/// <param name="Shifts">shifts of the finest stage</param>
/// <param name="Points">Fourier points of a slice at the finest stage</param>
/// <param name="Resolution">Å, the finest stage's</param>
public readonly record struct RunShape(int Box, int Particles, int Threads, int MinibatchSize, int TestSetSize, int Directions, int InPlane, int Shifts, int Points,
    double Resolution);

/// <summary>An estimate of a run's peak resident memory, item by item.</summary>
public sealed record MemoryEstimate(RunShape Shape, IReadOnlyList<(string What, long Bytes)> Items)
{
    public long Total => Items.Sum(i => i.Bytes);

    public override string ToString() => string.Join(", ", Items.OrderByDescending(i => i.Bytes).Select(i => $"{i.What} {MemoryBudget.Format(i.Bytes)}"));
}

/// <summary>
/// --max-memory: what a run will hold at its peak, estimated from its shape before it starts, and the refusal (naming
/// what would fit) when that is more than the budget. Memory does not grow with the dataset except for a few bytes
/// per particle (its plan entries and the importance-sampling index): the particle metadata (<see cref="Formats.Particles.ParticleCatalog"/>),
/// best poses (<see cref="Formats.State.PoseStore"/>), SAGD history and importance-sampling states are on disk, and the
/// pipeline's queues are bounded by the minibatch size.
/// </summary>
public static class MemoryBudget
{
    /// <summary>The .NET runtime, the code, the logger and the FFT library before any array (measured, box 32).</summary>
    private const long Runtime = 80L << 20;

    /// <summary>
    /// The garbage collector's headroom over what is live (objects that lived through an iteration wait for a full
    /// collection, which runs at checkpoints), measured on the soak and scale runs of BENCHMARKS.md.
    /// </summary>
    private const double GcHeadroom = 1.25;

    /// <summary>
    /// A marginaliser's scratch is rented from the shared array pool, which rounds sizes up to powers of two and keeps
    /// the arrays of earlier stages when a finer stage replaces them: about four times what the kernel asks for.
    /// </summary>
    private const int PooledScratch = 4;

    /// <summary>Per particle: its minibatch-plan entries (8 B), the sampling engine's training flag (1 B), its entry of the
    /// importance-sampling store's memory-mapped index (16 B, resident once touched) and a share of the de-duplicated stack
    /// paths. The particle table, parsed records and best poses, 630 B per particle before, are on disk.</summary>
    private const long PerParticle = 32;

    /// <summary>The items of a run of this shape.</summary>
    public static MemoryEstimate Estimate(RunShape s)
    {
        long d = s.Box, d3 = d * d * d, padded3 = 8 * d3;
        long slice = (long)s.Directions * s.Points;
        long rows = (long)s.InPlane * s.Shifts;
        // KernelWorkspace and ParticleMarginaliser (floats unless noted): rotated images, CTFs and their powers for
        // every in-plane angle; shift phases; slices, their powers and gradients; cross terms, responsibilities and
        // (double) log-posteriors over every pose row x direction
        long worker = 4 * (6 * (long)s.InPlane * s.Points + 2 * (long)s.Shifts * s.Points + 6 * slice + 2 * rows * 272 + 2 * rows * s.Directions)
            + 8 * rows * s.Directions;
        // a prepared particle: padded transform (4 D^2 complex), its real-space scratch (4 D^2 + D^2 floats) and energies
        long prepared = 4 * (8 * d * d + 5 * d * d) + 2 * d * d;
        long inFlight = 7L * s.MinibatchSize + s.TestSetSize;
        var items = new List<(string, long)>
        {
            // projector transform and scratch, gradient accumulator, FFT plan buffers: padded volumes; the volume,
            // gradients, SAGD sum and its spectra: plain ones
            ("volumes", 4 * (5 * padded3 + 12 * d3)),
            ($"slices at {s.Resolution.ToString("F1", CultureInfo.InvariantCulture)} Å", 4 * 2 * slice),
            ($"{s.Threads} x marginalisation", s.Threads * (worker * PooledScratch + 4 * 2 * slice)),
            ($"{inFlight} prepared particles", inFlight * prepared),
            ($"{s.Particles:N0} particles x {PerParticle} B", (long)s.Particles * PerParticle),
        };
        var scaled = items.Select(i => (i.Item1, (long)(i.Item2 * GcHeadroom))).Prepend(("runtime", Runtime)).ToList();
        return new MemoryEstimate(s, scaled);
    }

    /// <summary>Logs the estimate and refuses a run that does not fit <paramref name="budget"/>, saying what would.</summary>
    /// <exception cref="ConfigException">the estimate exceeds the budget</exception>
    public static void Check(MemoryEstimate estimate, long? budget, ILogger log)
    {
        log.Information("Estimated peak memory {Total} ({Items})", Format(estimate.Total), estimate.ToString());
        if (budget is not long limit || estimate.Total <= limit) return;
        var fits = new List<string>();
        for (int t = estimate.Shape.Threads - 1; t >= 1; t--)
        {
            long total = Estimate(estimate.Shape with { Threads = t }).Total;
            if (total > limit) continue;
            fits.Add($"--threads {t} (about {Format(total)})");
            break;
        }
        for (int b = estimate.Shape.MinibatchSize / 2; b >= 1 && fits.Count < 2; b /= 2)
        {
            long total = Estimate(estimate.Shape with { MinibatchSize = b }).Total;
            if (total <= limit) fits.Add($"--set data.minibatchSize={b} (about {Format(total)})");
        }
        string advice = fits.Count > 0 ? "it would fit with " + string.Join(" or ", fits)
            : $"nothing smaller fits: give --max-memory {Format(Estimate(estimate.Shape with { Threads = 1 }).Total)} or more with --threads 1, or lower resolution.targetResolution";
        throw new ConfigException(new ConfigIssue("--max-memory",
            $"{Format(limit)} is less than this run needs, about {Format(estimate.Total)} ({estimate}); {advice}", "command line"));
    }

    /// <summary>"1.5 GB", "300 MB".</summary>
    public static string Format(long bytes) => bytes >= 1L << 30
        ? (bytes / (double)(1L << 30)).ToString("F1", CultureInfo.InvariantCulture) + " GB"
        : (bytes / (double)(1L << 20)).ToString("F0", CultureInfo.InvariantCulture) + " MB";

    /// <summary>"2G", "1500M", "512MB", "2GB", or bytes.</summary>
    /// <exception cref="FormatException">not a size</exception>
    public static long Parse(string text)
    {
        string t = text.Trim().ToUpperInvariant();
        if (t.EndsWith('B') && t.Length > 1 && char.IsLetter(t[^2])) t = t[..^1];
        long unit = t.Length == 0 ? 1 : t[^1] switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, 'T' => 1L << 40, _ => 1 };
        if (unit != 1) t = t[..^1];
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v > 0))
            throw new FormatException($"'{text}' is not a memory size such as 2G or 1500M");
        return (long)(v * unit);
    }
}
