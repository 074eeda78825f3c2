using CryoFlow.Formats.State;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.State;

/// <summary>Managed memory alone in the process: other tests allocating at the same time would blur the figures.</summary>
[CollectionDefinition(nameof(StateMemoryCollection), DisableParallelization = true)]
public sealed class StateMemoryCollection;

/// <summary>The store's managed footprint does not grow with the number of records.</summary>
[Collection(nameof(StateMemoryCollection))]
public class StateStoreMemoryTests
{
    private static long ManagedWithStoreOf(int particles, string dir)
    {
        using var store = ParticleStateStore.Create(dir, particles);
        var record = new byte[200];
        var rng = new Random(particles);
        var buffer = new byte[200];
        for (int p = 0; p < particles; p++)
        {
            rng.NextBytes(record);
            store.Put(p, record);
        }
        for (int i = 0; i < particles; i++) store.Read(rng.Next(particles), buffer);
        long managed = ProcessMemory.Sample().ManagedHeapBytes;
        Assert.Equal(particles, store.RecordCount);
        GC.KeepAlive(store);
        return managed;
    }

    [Fact]
    public void ManagedMemoryDoesNotGrowWithTheNumberOfRecords()
    {
        using var dir = new TempDir();
        ManagedWithStoreOf(1000, dir.File("warm")); // JIT, pools and statics first
        long small = ManagedWithStoreOf(10_000, dir.File("small"));
        long large = ManagedWithStoreOf(200_000, dir.File("large"));
        // 190 000 more records: a managed long[] index alone would add 1.5 MB, one object per record ~10 MB.
        Assert.True(large - small < 256 * 1024, $"managed heap grew by {large - small} bytes from 10^4 to 2x10^5 records");
    }

    [Fact]
    public void MemoryReportsTheMappedIndexAndTheLog()
    {
        using var dir = new TempDir();
        using var store = ParticleStateStore.Create(dir.Path, 5000);
        for (int p = 0; p < 5000; p++) store.Put(p, new byte[100]);
        var m = store.Memory();
        Assert.Equal(5000 * 16, m.IndexMappedBytes);
        Assert.Equal(64 + 5000 * 124, m.DataFileBytes);
        Assert.Equal(5000 * 124, m.LiveBytes);
        Assert.Equal(new FileInfo(store.DataPath).Length, m.DataFileBytes);
    }

    /// <summary>
    /// The report's figures. Explicit: a measurement, not a check; run with
    /// <c>dotnet test tests/CryoFlow.Formats.Tests -c Release --filter "FullyQualifiedName~StateStoreMeasurement"
    /// --logger "console;verbosity=detailed" -- xUnit.Explicit=only</c> (the 10^6 x 4 KB case writes ~13 GB to the temp
    /// folder: log, snapshot and restored copy).
    /// </summary>
    [Theory(Explicit = true)]
    [InlineData(100_000, 200)]
    [InlineData(1_000_000, 200)]
    [InlineData(100_000, 4096)]
    [InlineData(1_000_000, 4096)]
    public void StateStoreMeasurement(int particles, int recordBytes)
    {
        using var dir = new TempDir();
        var result = StateStoreBench.Run(dir.Path, particles, recordBytes, threads: Environment.ProcessorCount);
        TestContext.Current.TestOutputHelper?.WriteLine(result.ToString());
        Assert.Equal(particles, result.Particles);
    }
}
