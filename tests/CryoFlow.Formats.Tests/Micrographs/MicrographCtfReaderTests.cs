using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Micrographs;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Micrographs;

/// <summary>CTF import from RELION micrographs STAR files (3.0 and 3.1+) and CTFFIND4 diagnostic text files.</summary>
public class MicrographCtfReaderTests
{
    private const string Relion31 = """

        # version 30001

        data_optics

        loop_
        _rlnOpticsGroupName #1
        _rlnOpticsGroup #2
        _rlnMicrographOriginalPixelSize #3
        _rlnVoltage #4
        _rlnSphericalAberration #5
        _rlnAmplitudeContrast #6
        _rlnMicrographPixelSize #7
        opticsGroup1            1     0.885000   200.000000     1.400000     0.100000     0.885000
        opticsGroup2            2     1.000000   300.000000     2.700000     0.070000     1.770000


        # version 30001

        data_micrographs

        loop_
        _rlnMicrographName #1
        _rlnOpticsGroup #2
        _rlnCtfImage #3
        _rlnDefocusU #4
        _rlnDefocusV #5
        _rlnCtfAstigmatism #6
        _rlnDefocusAngle #7
        _rlnCtfFigureOfMerit #8
        _rlnCtfMaxResolution #9
        MotionCorr/job002/Movies/m21.mrc            1 CtfFind/job005/Movies/m21_PS.ctf:mrc 37034.929688 35846.542969  1188.386719    -14.84966     0.017465     9.554261
        MotionCorr/job002/Movies/m22.mrc            2 CtfFind/job005/Movies/m22_PS.ctf:mrc 41828.664062 40649.269531  1179.394531    -20.38589     0.033214     inf

        """;

    [Fact]
    public void Relion31TakesVoltageCsContrastAndPixelSizeFromEachRowsOpticsGroup()
    {
        using var dir = new TempDir();
        var mics = MicrographCtfReader.Read(dir.WriteText("micrographs_ctf.star", Relion31));
        Assert.Equal(2, mics.Count);
        var a = mics[0];
        Assert.Equal("MotionCorr/job002/Movies/m21.mrc", a.MicrographKey);
        Assert.False(a.KeyIsFileName);
        Assert.Equal((37034.929688, 35846.542969, -14.84966), (a.Ctf.DefocusU, a.Ctf.DefocusV, a.Ctf.DefocusAngleDeg));
        Assert.Equal((200.0, 1.4, 0.1, 0.885), (a.Ctf.VoltageKv, a.Ctf.SphericalAberrationMm, a.Ctf.AmplitudeContrast, a.PixelSize!.Value));
        Assert.Equal((0.017465, 9.554261), (a.FigureOfMerit!.Value, a.MaxResolution!.Value));
        var b = mics[1];
        Assert.Equal((300.0, 2.7, 0.07, 1.77), (b.Ctf.VoltageKv, b.Ctf.SphericalAberrationMm, b.Ctf.AmplitudeContrast, b.PixelSize!.Value));
        Assert.Null(b.MaxResolution);
        Assert.Equal((0.0, 0.0, 1.0), (b.Ctf.PhaseShiftDeg, b.Ctf.BFactor, b.Ctf.Scale));
    }

    [Fact]
    public void ARowValueOverridesItsOpticsGroup()
    {
        using var dir = new TempDir();
        string text = Relion31.Replace("_rlnCtfMaxResolution #9", "_rlnCtfMaxResolution #9\n_rlnVoltage #10\n_rlnPhaseShift #11")
            .Replace("9.554261\n", "9.554261 120 35.5\n").Replace("     inf\n", "     inf 300 0\n");
        var mics = MicrographCtfReader.Read(dir.WriteText("m.star", text));
        Assert.Equal((120.0, 35.5), (mics[0].Ctf.VoltageKv, mics[0].Ctf.PhaseShiftDeg));
    }

    [Fact]
    public void Relion30ComputesThePixelSizeFromDetectorAndMagnification()
    {
        using var dir = new TempDir();
        var mics = MicrographCtfReader.Read(dir.WriteText("micrographs_ctf.star", """
            data_
            loop_
            _rlnMicrographName #1
            _rlnCtfImage #2
            _rlnDefocusU #3
            _rlnDefocusV #4
            _rlnDefocusAngle #5
            _rlnVoltage #6
            _rlnSphericalAberration #7
            _rlnAmplitudeContrast #8
            _rlnMagnification #9
            _rlnDetectorPixelSize #10
            _rlnCtfFigureOfMerit #11
            Micrographs/a.mrc Micrographs/a.ctf:mrc 10000 9000 45 300 2.7 0.1 10000 3.54 0.1
            """));
        var a = Assert.Single(mics);
        Assert.Equal(3.54, a.PixelSize!.Value, 12);
        Assert.Equal((10000.0, 9000.0, 45.0, 300.0), (a.Ctf.DefocusU, a.Ctf.DefocusV, a.Ctf.DefocusAngleDeg, a.Ctf.VoltageKv));
    }

    [Fact]
    public void MissingVoltageOrDefocusIsRefusedNamingTheColumn()
    {
        using var dir = new TempDir();
        var noKv = Assert.Throws<StarFormatException>(() => MicrographCtfReader.Read(dir.WriteText("a.star",
            "data_\nloop_\n_rlnMicrographName\n_rlnDefocusU\n_rlnSphericalAberration\nm.mrc 10000 2.7\n")));
        Assert.Equal("rlnVoltage", noKv.Where.Field);
        var noDefocus = Assert.Throws<StarFormatException>(() => MicrographCtfReader.Read(dir.WriteText("b.star",
            "data_\nloop_\n_rlnMicrographName\n_rlnVoltage\nm.mrc 300\n")));
        Assert.Equal("rlnDefocusU", noDefocus.Where.Field);
        var badNumber = Assert.Throws<StarFormatException>(() => MicrographCtfReader.Read(dir.WriteText("c.star",
            "data_\nloop_\n_rlnMicrographName\n_rlnDefocusU\n_rlnVoltage\n_rlnSphericalAberration\nm.mrc 1e4 300 2.7\nn.mrc x 300 2.7\n")));
        Assert.Equal(8, badNumber.Where.Line);
    }

    private const string Ctffind = """
        # Output from CTFFind version 4.1.14, run on 2023-02-02 15:13:07
        # Input file: /data/Micrographs/mic007.mrc ; Number of micrographs: 1
        # Pixel size: 1.060 Angstroms ; acceleration voltage: 200.0 keV ; spherical aberration: 2.26 mm ; amplitude contrast: 0.07
        # Box size: 1024 pixels ; min. res.: 30.0 Angstroms ; max. res.: 5.0 Angstroms ; min. def.: 5000.0 um; max. def. 50000.0 um
        # Columns: #1 - micrograph number; #2 - defocus 1 [Angstroms]; #3 - defocus 2; #4 - azimuth of astigmatism; #5 - additional phase shift [radians]; #6 - cross correlation; #7 - spacing (in Angstroms) up to which CTF rings were fit successfully
        1.000000 10256.125000 9975.486328 -43.577202 1.570796 0.047990 3.600000
        """;

    [Fact]
    public void CtffindGivesDefocusInAngstromAngleInDegreesAndPhaseInRadians()
    {
        using var dir = new TempDir();
        var m = Assert.Single(MicrographCtfReader.Read(dir.WriteText("mic007_ctf.txt", Ctffind)));
        Assert.Equal("mic007_ctf", m.MicrographKey);
        Assert.True(m.KeyIsFileName);
        Assert.Equal("/data/Micrographs/mic007.mrc", m.AlternativeKey);
        Assert.Equal((10256.125, 9975.486328, -43.577202), (m.Ctf.DefocusU, m.Ctf.DefocusV, m.Ctf.DefocusAngleDeg));
        Assert.Equal(90.0, m.Ctf.PhaseShiftDeg, 4);
        Assert.Equal((200.0, 2.26, 0.07, 1.06), (m.Ctf.VoltageKv, m.Ctf.SphericalAberrationMm, m.Ctf.AmplitudeContrast, m.PixelSize!.Value));
        Assert.Equal((0.04799, 3.6), (m.FigureOfMerit!.Value, m.MaxResolution!.Value));
        Assert.Equal(6, m.Line);
    }

    [Fact]
    public void CtffindInfiniteFitResolutionIsNone()
    {
        using var dir = new TempDir();
        var m = MicrographCtfReader.ReadCtffind(dir.WriteText("a.txt", Ctffind.Replace("0.047990 3.600000", "0.047990 inf")));
        Assert.Null(m.MaxResolution);
    }

    [Fact]
    public void CtffindFilesThatCannotBeReadSayWhy()
    {
        using var dir = new TempDir();
        var bad = Assert.Throws<CtfFormatException>(() => MicrographCtfReader.Read(dir.WriteText("a.txt", Ctffind.Replace("9975.486328", "9975,4"))));
        Assert.Equal((6L, "#3 defocus 2"), (bad.Where.Line!.Value, bad.Where.Field!));
        var twoRows = Assert.Throws<CtfFormatException>(() => MicrographCtfReader.Read(dir.WriteText("b.txt", Ctffind + "\n2 1 1 0 0 0 inf\n")));
        Assert.Equal(7, twoRows.Where.Line);
        var noHeader = Assert.Throws<CtfFormatException>(() => MicrographCtfReader.Read(dir.WriteText("c.txt", "1 10000 10000 0 0 0.1 4\n")));
        Assert.Contains("acceleration voltage", noHeader.Message);
        var shortRow = Assert.Throws<CtfFormatException>(() => MicrographCtfReader.Read(dir.WriteText("d.txt", Ctffind.Replace(" 0.047990 3.600000", ""))));
        Assert.Contains("5", shortRow.Where.Found);
        Assert.Throws<CtfFormatException>(() => MicrographCtfReader.Read(dir.WriteText("e.ctf", "x")));
    }

    [Fact]
    public void EstimatesArePairedWithMicrographsByName()
    {
        using var dir = new TempDir();
        var star = MicrographCtfReader.Read(dir.WriteText("micrographs_ctf.star", Relion31));
        var txt = MicrographCtfReader.Read(dir.WriteText("Micrographs_mic007.txt", Ctffind)); // own name matches nothing; the Input file does
        var index = new MicrographIndex(["data/m21.mrc", "data/m22.mrc", "data/mic007.mrc", "data/m99.mrc"]);
        var assignment = MicrographCtfMatcher.Assign(index, [.. star, .. txt]);
        Assert.Equal(["data/m21.mrc", "data/m22.mrc", "data/mic007.mrc"], assignment.ByMicrograph.Keys.Order());
        Assert.Empty(assignment.Unmatched);
        Assert.Equal(10256.125, assignment.ByMicrograph["data/mic007.mrc"].Ctf.DefocusU);

        var twice = Assert.Throws<CtfFormatException>(() => MicrographCtfMatcher.Assign(index, [.. star, .. star]));
        Assert.Contains("m21", twice.Message);
        var orphan = MicrographCtfMatcher.Assign(new MicrographIndex(["x.mrc"]), star);
        Assert.Equal(2, orphan.Unmatched.Count);
    }
}
