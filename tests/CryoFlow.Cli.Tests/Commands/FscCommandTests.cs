using CryoFlow.Formats.Mrc;
using CryoFlow.Numerics.Evaluation;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Resampling;
using CryoFlow.TestSupport;

namespace CryoFlow.Cli.Tests.Commands;

public class FscCommandTests
{
    private const int D = 32;
    private const double Apix = 2.0;

    /// <summary>hand-vol.mrc (64^3, chiral) Fourier-cropped to 32^3, written with a 2 Å voxel.</summary>
    private static string WriteHand(TempDir dir, string name, Func<float[], float[]>? motion = null)
    {
        float[] hand;
        using (var reader = MrcReader.OpenVolume(TestPaths.RealData("volumes/hand-vol.mrc")))
            hand = FourierResampler.ResampleVolume(reader.ReadVolume(), reader.Width, D);
        var map = motion is null ? hand : motion(hand);
        string path = dir.File(name);
        MrcWriter.WriteVolume(path, map, D, D, D, new MrcWriterOptions { VoxelSize = Apix });
        return path;
    }

    private static float[] TurnedMirroredCopy(float[] map) =>
        MapTransform.Apply(map, D, new EulerAngles(40, 110, -65).ToMatrix(), MapHand.Mirrored, new Shift3(2.5, -1.25, 1.5));

    [Fact]
    public void IdenticalMapsGiveFscOneWithAndWithoutAlignment()
    {
        using var dir = new TempDir();
        string a = WriteHand(dir, "a.mrc");
        foreach (var extra in new[] { Array.Empty<string>(), ["--align"] })
        {
            var r = CliRunner.Run(["fsc", a, a, "--json", .. extra]);
            Assert.True(r.ExitCode == 0, r.ToString());
            var j = r.Json();
            Assert.All(j.GetProperty("shells").EnumerateArray().Skip(1), s => Assert.Equal(1.0, s.GetProperty("fsc").GetDouble(), 5));
            Assert.Equal(2 * Apix, j.GetProperty("resolution05").GetDouble(), 9);
            if (extra.Length == 0)
            {
                Assert.False(j.TryGetProperty("aligned", out _));
                continue;
            }
            var al = j.GetProperty("aligned");
            Assert.Equal("original", al.GetProperty("hand").GetString());
            foreach (string p in new[] { "rot", "tilt", "psi" }) Assert.Equal(0.0, al.GetProperty(p).GetDouble(), 6);
            foreach (string p in new[] { "shiftX", "shiftY", "shiftZ" }) Assert.Equal(0.0, al.GetProperty(p).GetDouble(), 4);
            Assert.Equal(1.0, al.GetProperty("correlation").GetDouble(), 6);
        }
    }

    [Fact]
    public void AlignedFscOfATurnedMirroredCopyReportsTheMirrorAndMatchesIdenticalMaps()
    {
        using var dir = new TempDir();
        string a = WriteHand(dir, "a.mrc");
        string b = WriteHand(dir, "b.mrc", TurnedMirroredCopy);
        string aligned = dir.File("b_aligned.mrc");

        var plain = CliRunner.Run("fsc", a, b, "--json");
        Assert.True(plain.ExitCode == 0, plain.ToString());
        // unaligned, the copy barely correlates beyond the lowest shells
        Assert.True(plain.Json().GetProperty("resolution05").GetDouble() > 4 * 2 * Apix, plain.Out);

        var r = CliRunner.Run("fsc", a, b, "--align", "--json", "--aligned-out", aligned);
        Assert.True(r.ExitCode == 0, r.ToString());
        var j = r.Json();
        var al = j.GetProperty("aligned");
        Assert.Equal("mirrored", al.GetProperty("hand").GetString());
        // the whitened score weighs the resampling-worn top shells as much as the rest (measured 0.998)
        Assert.True(al.GetProperty("correlation").GetDouble() > 0.995, r.Out);
        Assert.True(al.GetProperty("information").GetDouble() > 0, r.Out);
        Assert.True(al.GetProperty("otherHandCorrelation").GetDouble() < al.GetProperty("correlation").GetDouble() - 0.02, r.Out);
        // identical maps give Nyquist (4 Å); two resamplings keep FSC above 0.9 there (measured 0.96)
        Assert.Equal(2 * Apix, j.GetProperty("resolution05").GetDouble(), 6);
        Assert.Equal(2 * Apix, j.GetProperty("resolution0143").GetDouble(), 6);

        // the written map is the one the FSC was computed with
        using (var reader = MrcReader.OpenVolume(aligned))
        {
            Assert.Equal(D, reader.Width);
            Assert.Equal(Apix, reader.Header.VoxelSizeX!.Value, 4);
        }
        var check = CliRunner.Run("fsc", a, aligned, "--json");
        Assert.True(check.ExitCode == 0, check.ToString());
        var s1 = j.GetProperty("shells").EnumerateArray().Select(s => s.GetProperty("fsc").GetDouble()).ToArray();
        var s2 = check.Json().GetProperty("shells").EnumerateArray().Select(s => s.GetProperty("fsc").GetDouble()).ToArray();
        Assert.Equal(s1.Length, s2.Length);
        for (int i = 0; i < s1.Length; i++) Assert.Equal(s1[i], s2[i], 5);
    }

    [Fact]
    public void TextOutputSaysWhichHandMatched()
    {
        using var dir = new TempDir();
        string a = WriteHand(dir, "a.mrc");
        string b = WriteHand(dir, "b.mrc", TurnedMirroredCopy);
        var r = CliRunner.Run("fsc", a, b, "--align");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("the mirrored hand of B matched", r.Out);
        Assert.Contains("resolution at FSC 0.5: 4.00 Å", r.Out);
    }

    [Fact]
    public void AlignedOutWithoutAlignIsAUsageError()
    {
        using var dir = new TempDir();
        string a = WriteHand(dir, "a.mrc");
        var r = CliRunner.Run("fsc", a, a, "--aligned-out", dir.File("x.mrc"));
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Contains("--aligned-out needs --align", r.Err);
        Assert.False(File.Exists(dir.File("x.mrc")));
    }
}
