using CryoFlow.Formats.Particles;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.TestSupport;
using static CryoFlow.Pipeline.Tests.Reconstruction.TinyRuns;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

/// <summary>The prepared-particle cache and the memory budget.</summary>
public class ReconstructResourceTests
{
    private sealed class CountingImages(IParticleImageSource inner) : IParticleImageSource
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public void Read(int index, Span<float> destination)
        {
            Interlocked.Increment(ref _reads);
            inner.Read(index, destination);
        }
    }

    [Fact]
    public void ACacheOfPreparedParticlesGivesTheSameMapAndSparesEveryReadOnceWarm()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"));
        var config = Config(12);
        CountingImages? counter = null;
        ReconstructRequest Request(string run, string? cache) => new(sim.StarPath, run, config)
        {
            CacheDirectory = cache,
            ImageSource = inner => counter = new CountingImages(inner),
        };

        var plain = Run(Request(dir.File("plain"), null));
        int plainReads = counter!.Reads;
        var cold = Run(Request(dir.File("cold"), dir.File("cache")));
        // every particle once, a few twice (read ahead before their first preparation was stored), where the plain run reads every epoch
        Assert.InRange(counter.Reads, 160, plainReads / 2);
        var warm = Run(Request(dir.File("warm"), dir.File("cache")));
        Assert.Equal(0, counter.Reads);

        byte[] map = File.ReadAllBytes(plain.MapPath);
        Assert.Equal(map, File.ReadAllBytes(cold.MapPath));
        Assert.Equal(map, File.ReadAllBytes(warm.MapPath));
        Assert.Single(Directory.EnumerateFiles(dir.File("cache"), "prepared-*.bin"));
    }

    [Fact]
    public void AMemoryBudgetTheRunDoesNotFitIsRefusedBeforeAnythingIsWrittenSayingWhatWouldFit()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"));
        string run = dir.File("run");
        var e = Assert.Throws<ConfigException>(() => Run(new ReconstructRequest(sim.StarPath, run, Config(5)) { MaxMemoryBytes = 40L << 20 }));
        Assert.Contains("--max-memory", e.Message);
        Assert.Contains("40 MB is less than this run needs", e.Message);
        Assert.Contains("--max-memory", e.Message[(e.Message.IndexOf("nothing smaller fits", StringComparison.Ordinal))..]);
        Assert.False(Directory.Exists(run));

        var fits = Run(new ReconstructRequest(sim.StarPath, run, Config(2)) { MaxMemoryBytes = 2L << 30 });
        Assert.Equal(2, fits.Iterations);
    }

    [Fact]
    public void TheEstimateSuggestsFewerThreadsOrSmallerMinibatchesWhenTheyFit()
    {
        var shape = new RunShape(Box: 128, Particles: 1_000_000, Threads: 16, MinibatchSize: 200, TestSetSize: 200, Directions: 4000, InPlane: 60, Shifts: 25, Points: 5000, Resolution: 8);
        var estimate = MemoryBudget.Estimate(shape);
        long oneThread = MemoryBudget.Estimate(shape with { Threads = 1 }).Total;
        Assert.True(estimate.Total > oneThread);
        var e = Assert.Throws<ConfigException>(() => MemoryBudget.Check(estimate, oneThread + (1L << 20), Serilog.Core.Logger.None));
        Assert.Contains("it would fit with --threads", e.Message);
        MemoryBudget.Check(estimate, estimate.Total, Serilog.Core.Logger.None);
    }

    [Theory]
    [InlineData("2G", 2L << 30)]
    [InlineData("1500M", 1500L << 20)]
    [InlineData("512MB", 512L << 20)]
    [InlineData("1.5gb", 3L << 29)]
    [InlineData("100000", 100000)]
    public void MemorySizesParse(string text, long bytes) => Assert.Equal(bytes, MemoryBudget.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-1G")]
    public void NonSizesAreRefused(string text) => Assert.Throws<FormatException>(() => MemoryBudget.Parse(text));
}
