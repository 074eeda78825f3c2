using CryoFlow.Numerics.Fourier;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.TestSupport;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

public class DiskGradientHistoryTests
{
    private const int D = 16;

    /// <summary>A random real D^3 volume and its half-space transform, with coefficients at every |k|.</summary>
    private static float[] RandomVolume(int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, D * D * D).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
    }

    /// <summary>The volume with its coefficients beyond <paramref name="band"/> zeroed (the reference band-limiting).</summary>
    private static float[] BandLimited(float[] volume, double band)
    {
        var fft = FftBackends.Default.Plan3D(D);
        var spectrum = new float[fft.ComplexLength];
        fft.Forward(volume, spectrum);
        var packed = new float[2 * FourierBand.Count(D, band)];
        FourierBand.Pack(D, band, spectrum, packed);
        FourierBand.Unpack(D, band, packed, spectrum);
        var result = new float[volume.Length];
        fft.Inverse(spectrum, result);
        return result;
    }

    [Fact]
    public void AGradientIsKeptAsItsBandAndTheWriterIsToldExactlyWhatWillBeReadBack()
    {
        using var dir = new TempDir();
        using var history = DiskGradientHistory.Create(dir.File("h"), 3, D);
        var g = RandomVolume(1);
        var expected = BandLimited(g, 3.5);
        var written = (float[])g.Clone();
        history.Write(1, written, 3.5);
        Assert.Equal(expected, written); // the band only: the rest of g is gone
        var back = new float[g.Length];
        Assert.True(history.TryRead(1, back));
        Assert.Equal(written, back); // bitwise: what the optimiser added is what it will subtract
        Assert.False(history.TryRead(0, back));
        Assert.True(history.Contains(1));
        Assert.False(history.Contains(2));
        // the band is about (2/3) pi r^3 complex values: 2.5% of the full half-space here
        Assert.InRange(history.StoredBytes, 8 * FourierBand.Count(D, 3.5), 8 * FourierBand.Count(D, 3.5) + 200);
    }

    [Fact]
    public void AnUnlimitedBandKeepsTheGradientWhole()
    {
        using var dir = new TempDir();
        using var history = DiskGradientHistory.Create(dir.File("h"), 1, D);
        var g = RandomVolume(2);
        history.Write(0, g);
        var back = new float[g.Length];
        history.TryRead(0, back);
        for (int i = 0; i < g.Length; i++) Assert.True(Math.Abs(g[i] - back[i]) < 1e-6, $"voxel {i}: {g[i]} -> {back[i]}");
    }

    [Fact]
    public void ASnapshotOpensAsTheSameHistory()
    {
        using var dir = new TempDir();
        using var history = DiskGradientHistory.Create(dir.File("h"), 4, D);
        foreach (var (batch, band) in new[] { (0, 2.0), (2, 5.0), (3, 7.5) }) history.Write(batch, RandomVolume(batch), band);
        history.Write(2, RandomVolume(9), 6.0); // an overwrite
        using (var s = File.Create(dir.File("history.snap"))) history.Snapshot(s, "history.snap");

        using var opened = DiskGradientHistory.Open(dir.File("history.snap"), dir.File("resumed"), 4, D);
        var a = new float[D * D * D];
        var b = new float[D * D * D];
        for (int batch = 0; batch < 4; batch++)
        {
            Assert.Equal(history.TryRead(batch, a), opened.TryRead(batch, b));
            Assert.Equal(a, b);
        }
        Assert.Throws<Formats.State.StateStoreFormatException>(() => DiskGradientHistory.Open(dir.File("history.snap"), dir.File("other"), 5, D));
    }

    [Fact]
    public void ClearForgetsEverything()
    {
        using var dir = new TempDir();
        using var history = DiskGradientHistory.Create(dir.File("h"), 2, D);
        history.Write(0, RandomVolume(3), 4);
        history.Sum[5] = 1;
        history.Weights[0] = 1;
        history.Clear();
        Assert.False(history.Contains(0));
        Assert.All(history.Sum.ToArray(), v => Assert.Equal(0, v));
        Assert.Equal([0.0, 0.0], history.Weights.ToArray());
    }
}
