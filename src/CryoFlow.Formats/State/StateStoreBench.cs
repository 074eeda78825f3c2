using System.Diagnostics;
using System.Globalization;

namespace CryoFlow.Formats.State;

/// <summary>Process memory: resident total and, on Linux, its anonymous (heap, stacks) and file-backed (mapped
/// files such as the state index) parts from /proc/self/status; elsewhere only the total.</summary>
public readonly record struct ProcessMemory(long ResidentBytes, long? AnonymousBytes, long? FileBackedBytes, long ManagedHeapBytes)
{
    /// <summary>Samples after a full, compacting collection.</summary>
    public static ProcessMemory Sample()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        long managed = GC.GetTotalMemory(forceFullCollection: true);
        long? rss = null, anon = null, file = null;
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (string line in File.ReadLines(status))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kilobytes(line);
                else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = Kilobytes(line);
                else if (line.StartsWith("RssFile:", StringComparison.Ordinal)) file = Kilobytes(line);
            }
        }
        if (rss is null)
        {
            using var self = Process.GetCurrentProcess();
            rss = self.WorkingSet64;
        }
        return new ProcessMemory(rss.Value, anon, file, managed);
    }

    private static long Kilobytes(string line)
    {
        string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
    }
}

/// <summary>Figures from one <see cref="StateStoreBench.Run"/>.</summary>
public sealed record StateStoreBenchResult(
    long Particles, int MeanRecordBytes, int Threads,
    double PutsPerSecond, double GetsPerSecond, double PutMegabytesPerSecond,
    double SnapshotSeconds, double OpenSeconds, long SnapshotBytes,
    ProcessMemory Before, ProcessMemory AfterPuts, ProcessMemory AfterGets, StateStoreMemory Store)
{
    public override string ToString()
    {
        static string Mb(long b) => (b / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MB";
        static string Delta(long? a, long? b) => a is long x && b is long y ? Mb(y - x) : "n/a";
        return string.Create(CultureInfo.InvariantCulture,
            $"""
            particles {Particles}, records ~{MeanRecordBytes} B, {Threads} threads
            put  {PutsPerSecond:F0}/s ({PutMegabytesPerSecond:F0} MB/s)   get {GetsPerSecond:F0}/s (random order)
            snapshot {SnapshotSeconds:F2} s ({Mb(SnapshotBytes)})   open (verify + restore) {OpenSeconds:F2} s
            managed heap   before {Mb(Before.ManagedHeapBytes)}, after puts {Mb(AfterPuts.ManagedHeapBytes)}, after gets {Mb(AfterGets.ManagedHeapBytes)}
            RSS delta      after puts {Mb(AfterPuts.ResidentBytes - Before.ResidentBytes)} (anon {Delta(Before.AnonymousBytes, AfterPuts.AnonymousBytes)}, file-backed {Delta(Before.FileBackedBytes, AfterPuts.FileBackedBytes)}), after gets {Mb(AfterGets.ResidentBytes - Before.ResidentBytes)} (anon {Delta(Before.AnonymousBytes, AfterGets.AnonymousBytes)}, file-backed {Delta(Before.FileBackedBytes, AfterGets.FileBackedBytes)})
            store          index mapped {Mb(Store.IndexMappedBytes)}, log {Mb(Store.DataFileBytes)}, live {Mb(Store.LiveBytes)}, store-owned managed {Mb(Store.ManagedBytes)}
            """);
    }
}

/// <summary>
/// Measurement for <c>cryoflow bench state</c>: fills a store of <c>particles</c> simulated IS states (payload sizes
/// uniform in [mean/2, 3 mean/2]) from <c>threads</c> threads, overwrites 10% of them, reads every particle in a
/// random order, snapshots and restores, and samples process memory before, after the puts and after the gets.
/// </summary>
public static class StateStoreBench
{
    public static StateStoreBenchResult Run(string directory, long particles, int meanRecordBytes = 200, int threads = 4, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(particles, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(meanRecordBytes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        string work = Path.Combine(directory, "work");
        string resumed = Path.Combine(directory, "resumed");
        string snapshotPath = Path.Combine(directory, "is.state");
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };

        var before = ProcessMemory.Sample();
        using var store = ParticleStateStore.Create(work, particles);
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        Parallel.For(0, threads, options, t =>
        {
            var rng = new Random(seed * 7919 + t);
            var buffer = new byte[meanRecordBytes * 3 / 2 + 1];
            long local = 0;
            for (long p = t; p < particles; p += threads)
            {
                int n = rng.Next(meanRecordBytes / 2, meanRecordBytes * 3 / 2 + 1);
                rng.NextBytes(buffer.AsSpan(0, n));
                store.Put(p, buffer.AsSpan(0, n));
                local += n;
                if (rng.Next(10) == 0)
                {
                    store.Put(p, buffer.AsSpan(0, n));
                    local += n;
                }
            }
            Interlocked.Add(ref bytes, local);
        });
        double putSeconds = clock.Elapsed.TotalSeconds;
        long puts = particles + particles / 10;
        var afterPuts = ProcessMemory.Sample();

        clock.Restart();
        Parallel.For(0, threads, options, t =>
        {
            var rng = new Random(seed * 104729 + t);
            var buffer = new byte[meanRecordBytes * 3 / 2 + 1];
            for (long i = t; i < particles; i += threads)
                if (store.Read(rng.NextInt64(particles), buffer) < 0) throw new InvalidOperationException("a written particle has no record");
        });
        double getSeconds = clock.Elapsed.TotalSeconds;
        var afterGets = ProcessMemory.Sample();

        clock.Restart();
        var info = store.Snapshot(snapshotPath);
        double snapshotSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        using (ParticleStateStore.Open(snapshotPath, resumed)) { }
        double openSeconds = clock.Elapsed.TotalSeconds;

        return new StateStoreBenchResult(particles, meanRecordBytes, threads,
            puts / putSeconds, particles / getSeconds, bytes / putSeconds / 1e6,
            snapshotSeconds, openSeconds, info.FileLength, before, afterPuts, afterGets, store.Memory());
    }
}
