using CryoFlow.Formats.Mrc;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Mrc;

/// <summary>Many threads reading one <see cref="MrcReader"/> at random get exactly what a sequential pass gets.</summary>
public class MrcConcurrencyTests
{
    [Theory]
    [InlineData(2, false)]
    [InlineData(2, true)]
    [InlineData(12, true)]
    [InlineData(0, false)]
    public void ConcurrentRandomReadsEqualSequentialRead(int mode, bool bigEndian)
    {
        using var dir = new TempDir();
        const int nx = 24, ny = 20, nz = 300;
        var values = RawMrc.ExactValues(mode, nx * ny * nz, seed: 11);
        string path = new RawMrc(nx, ny, nz, mode, bigEndian).WithValues(mode, values)
            .WithExtendedHeader(new byte[77], "SERI").WriteTo(dir.File("c.mrcs"));

        using var reader = MrcReader.OpenStack(path);
        var sequential = new float[nz][];
        for (int i = 0; i < nz; i++) sequential[i] = reader.ReadImage(i);

        // Every image several times, in a shuffled order, split across threads.
        var order = Enumerable.Range(0, nz * 4).Select(i => i % nz).ToArray();
        new Random(3).Shuffle(order);
        var concurrent = new float[order.Length][];
        Parallel.For(0, order.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, () => new float[nx * ny], (k, _, scratch) =>
        {
            reader.ReadImage(order[k], scratch);
            concurrent[k] = scratch.ToArray();
            return scratch;
        }, _ => { });

        for (int k = 0; k < order.Length; k++) Assert.Equal(sequential[order[k]], concurrent[k]);
        Assert.Equal(values.AsSpan(0, nx * ny).ToArray(), sequential[0]);
    }

    [Fact]
    public async Task IndependentStreamReadersOnOneFileRunInParallel()
    {
        using var dir = new TempDir();
        const int nx = 16, ny = 16, nz = 200;
        var values = RawMrc.ExactValues(2, nx * ny * nz, seed: 12);
        string path = new RawMrc(nx, ny, nz, 2).WithValues(2, values).WriteTo(dir.File("s.mrcs"));

        var sums = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            await using var reader = await MrcStreamReader.OpenAsync(path);
            double sum = 0;
            await foreach (var image in reader.ReadAllAsync())
                foreach (float v in image.Pixels.Span) sum += v;
            return sum;
        }, TestContext.Current.CancellationToken)));
        double expected = values.Sum(v => (double)v);
        Assert.All(sums, s => Assert.Equal(expected, s));
    }
}
