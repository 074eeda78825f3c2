using CryoFlow.Formats.State;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.State;

/// <summary>Puts and gets against an in-memory model, compaction, concurrency, argument checks.</summary>
public class ParticleStateStoreTests
{
    private static readonly ParticleStateStoreOptions EagerCompaction = new() { CompactionMinimumBytes = 1 << 20 };

    [Fact]
    public void ReadsEqualTheLastWriteAfterRandomPutsAndOverwrites()
    {
        const int n = 100_000;
        using var dir = new TempDir();
        using var store = ParticleStateStore.Create(dir.Path, n, EagerCompaction);
        var model = new Dictionary<long, byte[]>();
        var rng = new Random(1);
        for (int p = 0; p < n; p++)
        {
            if (rng.Next(10) == 0) continue; // some particles never seen
            var r = StateRecords.Make(rng);
            store.Put(p, r);
            model[p] = r;
        }
        for (int i = 0; i < 60_000; i++)
        {
            long p = rng.Next(n);
            var r = StateRecords.Make(rng);
            store.Put(p, r);
            model[p] = r;
            if (i % 7919 == 0) Assert.Equal(r, store.Get(p));
        }

        Assert.True(store.Memory().GarbageBytes < store.Memory().DataFileBytes, "compaction should have run");
        Assert.Equal(model.Count, store.RecordCount);
        var buffer = new byte[64 << 10];
        for (long p = 0; p < n; p++)
        {
            if (model.TryGetValue(p, out var expected))
            {
                Assert.Equal(expected.Length, store.GetLength(p));
                Assert.Equal(expected.Length, store.Read(p, buffer));
                Assert.True(expected.AsSpan().SequenceEqual(buffer.AsSpan(0, expected.Length)), $"particle {p}");
            }
            else
            {
                Assert.Null(store.Get(p));
                Assert.Equal(-1, store.Read(p, buffer));
                Assert.Equal(0u, store.GetGeneration(p));
            }
        }
    }

    [Fact]
    public void CompactionKeepsLiveRecordsAndDropsGarbage()
    {
        using var dir = new TempDir();
        using var store = ParticleStateStore.Create(dir.Path, 1000);
        for (int round = 1; round <= 5; round++)
            for (int p = 0; p < 1000; p += 2) store.Put(p, StateRecords.For(p, round));
        long before = store.Memory().DataFileBytes;
        store.Compact();
        var m = store.Memory();
        Assert.Equal(0, m.GarbageBytes);
        Assert.Equal(m.LiveBytes + 64, m.DataFileBytes);
        Assert.True(m.DataFileBytes < before / 4);
        for (int p = 0; p < 1000; p++)
        {
            Assert.Equal(p % 2 == 0 ? StateRecords.For(p, 5) : null, store.Get(p));
            Assert.Equal(p % 2 == 0 ? 5u : 0u, store.GetGeneration(p));
        }
        store.Put(2, [1, 2, 3]);
        Assert.Equal([1, 2, 3], store.Get(2));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(16)]
    public void ConcurrentPutsAndGetsOfDistinctParticlesEqualSequential(int threads)
    {
        const int n = 20_000;
        const int rounds = 3;
        using var dir = new TempDir();
        using var sequential = ParticleStateStore.Create(Path.Combine(dir.Path, "seq"), n, EagerCompaction);
        for (int round = 1; round <= rounds; round++)
            for (int p = 0; p < n; p++)
                if ((p + round) % 3 != 0) sequential.Put(p, StateRecords.For(p, round));

        using var concurrent = ParticleStateStore.Create(Path.Combine(dir.Path, "par"), n, EagerCompaction);
        int failures = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int round = 1; round <= rounds; round++)
                for (int p = t; p < n; p += threads)
                {
                    if ((p + round) % 3 == 0) continue;
                    var r = StateRecords.For(p, round);
                    concurrent.Put(p, r);
                    if (!r.AsSpan().SequenceEqual(concurrent.Get(p))) Interlocked.Increment(ref failures);
                }
        });

        Assert.Equal(0, failures);
        Assert.Equal(sequential.RecordCount, concurrent.RecordCount);
        for (long p = 0; p < n; p++)
        {
            Assert.Equal(sequential.Get(p), concurrent.Get(p));
            Assert.Equal(sequential.GetGeneration(p), concurrent.GetGeneration(p));
        }
        // Snapshots hold records in particle order, so equal contents give byte-identical files.
        sequential.Snapshot(dir.File("seq.state"));
        concurrent.Snapshot(dir.File("par.state"));
        Assert.Equal(File.ReadAllBytes(dir.File("seq.state")), File.ReadAllBytes(dir.File("par.state")));
    }

    [Fact]
    public void RejectsParticlesOutsideTheRangeAndShortDestinations()
    {
        using var dir = new TempDir();
        using var store = ParticleStateStore.Create(dir.Path, 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Put(10, [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Put(-1, [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Get(10));
        store.Put(3, new byte[100]);
        Assert.Throws<ArgumentException>(() => store.Read(3, new byte[99]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ParticleStateStore.Create(dir.File("zero"), 0));
    }

    [Fact]
    public void ADisposedStoreRefusesUse()
    {
        using var dir = new TempDir();
        var store = ParticleStateStore.Create(dir.Path, 4);
        store.Put(0, [1]);
        store.Dispose();
        store.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.Put(0, [2]));
        Assert.Throws<ObjectDisposedException>(() => store.Get(0));
        Assert.Throws<ObjectDisposedException>(() => store.Snapshot(dir.File("s.state")));
    }

    [Fact]
    public void ACorruptedWorkingLogRecordIsReportedWithFileAndOffset()
    {
        using var dir = new TempDir();
        using var live = ParticleStateStore.Create(dir.Path, 4);
        live.Put(1, new byte[300]);
        using (var f = new FileStream(live.DataPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            f.Position = 64 + 24 + 7;
            f.WriteByte(0xff);
        }
        var ex = Assert.Throws<StateStoreFormatException>(() => live.Get(1));
        Assert.Equal(live.DataPath, ex.FilePath);
        Assert.Equal(64, ex.Where.ByteOffset);
        Assert.Equal(1, ex.Where.Record);
    }
}
