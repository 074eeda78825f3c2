using CryoFlow.Formats.Coordinates;
using CryoFlow.Formats.Errors;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Coordinates;

/// <summary>Every picker format, converted to centres in micrograph pixels; bad content named by file, line and field.</summary>
public class CoordinateReaderTests
{
    private static CoordinateSet Single(string path, CoordinateReadOptions? options = null) => Assert.Single(CoordinateReader.Read(path, options));

    [Fact]
    public void RelionAutopickStarGivesCentresAndFigureOfMerit()
    {
        using var dir = new TempDir();
        string path = dir.WriteText("mic001_autopick.star", """

            # version 30001

            data_

            loop_
            _rlnCoordinateX #1
            _rlnCoordinateY #2
            _rlnClassNumber #3
            _rlnAutopickFigureOfMerit #4
            _rlnAnglePsi #5
             1024.000000   512.000000            1     1.250000    -999.00000
              300.500000   700.000000            1     0.750000    -999.00000

            """);
        var set = Single(path);
        Assert.Equal(CoordinateFormat.RelionStar, set.Format);
        Assert.Equal("mic001_autopick", set.MicrographKey);
        Assert.True(set.KeyIsFileName);
        Assert.Equal([(1024.0, 512.0, 1.25), (300.5, 700.0, 0.75)], set.Picks.Select(p => (p.X, p.Y, p.Score!.Value)));
        Assert.Equal(12, set.Picks[0].Line);
    }

    [Fact]
    public void RelionStarWithMicrographNamesSplitsByMicrograph()
    {
        using var dir = new TempDir();
        string path = dir.WriteText("picks.star", """
            data_particles
            loop_
            _rlnMicrographName
            _rlnCoordinateX
            _rlnCoordinateY
            Micrographs/a.mrc 10 20
            Micrographs/b.mrc 30 40
            Micrographs/a.mrc 50 60
            """);
        var sets = CoordinateReader.Read(path);
        Assert.Equal(["Micrographs/a.mrc", "Micrographs/b.mrc"], sets.Select(s => s.MicrographKey));
        Assert.All(sets, s => Assert.False(s.KeyIsFileName));
        Assert.Equal([(10.0, 20.0), (50.0, 60.0)], sets[0].Picks.Select(p => (p.X, p.Y)));
        Assert.All(sets.SelectMany(s => s.Picks), p => Assert.Null(p.Score));
    }

    [Fact]
    public void RelionAutopickListIsFollowedToItsPerMicrographFiles()
    {
        using var dir = new TempDir();
        dir.WriteText("AutoPick/job006/Micrographs/a_autopick.star", "data_\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n100 200\n");
        dir.WriteText("AutoPick/job006/Micrographs/b_autopick.star", "data_\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n300 400\n");
        // paths in the list are project-relative: the project is two folders above the list
        string list = dir.WriteText("AutoPick/job006/autopick.star", """
            data_coordinate_files
            loop_
            _rlnMicrographName
            _rlnMicrographCoordinates
            MotionCorr/job002/Micrographs/a.mrc AutoPick/job006/Micrographs/a_autopick.star
            MotionCorr/job002/Micrographs/b.mrc AutoPick/job006/Micrographs/b_autopick.star
            """);
        var sets = CoordinateReader.Read(list);
        Assert.Equal(["MotionCorr/job002/Micrographs/a.mrc", "MotionCorr/job002/Micrographs/b.mrc"], sets.Select(s => s.MicrographKey));
        Assert.Equal((300.0, 400.0), (sets[1].Picks[0].X, sets[1].Picks[0].Y));
    }

    [Fact]
    public void AutopickListNamingAMissingFileListsWhereItLooked()
    {
        using var dir = new TempDir();
        string list = dir.WriteText("autopick.star", "data_\nloop_\n_rlnMicrographName\n_rlnMicrographCoordinates\na.mrc gone/a_autopick.star\n");
        var e = Assert.Throws<DataFileNotFoundException>(() => CoordinateReader.Read(list));
        Assert.Contains("gone/a_autopick.star", e.Message);
        Assert.Contains("line 5", e.Message);
    }

    [Fact]
    public void EmptyAutopickFileIsAMicrographWithNoPicks()
    {
        using var dir = new TempDir();
        Assert.Empty(Single(dir.WriteText("a_autopick.star", "\n# version 30001\n\ndata_\n\n")).Picks);
        Assert.Empty(Single(dir.WriteText("b_autopick.star", "data_\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n")).Picks);
    }

    [Fact]
    public void EmanBoxCornersBecomeCentres()
    {
        using var dir = new TempDir();
        var set = Single(dir.WriteText("mic.box", "100\t200\t256\t256\n\n  10 20 64 32 -3\n"));
        Assert.Equal(CoordinateFormat.EmanBox, set.Format);
        Assert.Equal([(228.0, 328.0), (42.0, 36.0)], set.Picks.Select(p => (p.X, p.Y)));
        Assert.Equal([1L, 3L], set.Picks.Select(p => p.Line!.Value));
        Assert.All(set.Picks, p => Assert.Null(p.Score));
    }

    [Fact]
    public void CryoloCboxStarCornersBecomeCentresWithConfidence()
    {
        using var dir = new TempDir();
        string path = dir.WriteText("mic.cbox", """

            data_global

            _cbox_format_version 1.0

            data_cryolo

            loop_
            _CoordinateX #1
            _CoordinateY #2
            _CoordinateZ #3
            _Width #4
            _Height #5
            _Depth #6
            _EstWidth #7
            _EstHeight #8
            _Confidence #9
            _NumBoxes #10
            _Angle #11
            872.0 1616.0 <NA> 220.0 220.0 <NA> 202.0 200.0 0.8754 <NA> <NA>
            100.0 50.0 <NA> 200.0 100.0 <NA> 202.0 200.0 nan <NA> <NA>

            data_cryolo_include

            loop_
            _slice_index #1

            """);
        var set = Single(path);
        Assert.Equal(CoordinateFormat.CryoloCbox, set.Format);
        Assert.Equal([(982.0, 1726.0), (200.0, 100.0)], set.Picks.Select(p => (p.X, p.Y)));
        Assert.Equal(0.8754, set.Picks[0].Score);
        Assert.Null(set.Picks[1].Score);
    }

    [Fact]
    public void OldWhitespaceCboxReadsConfidenceFromTheFifthColumn()
    {
        using var dir = new TempDir();
        var set = Single(dir.WriteText("mic.cbox", "10 20 100 100 0.5 1\n"));
        Assert.Equal((60.0, 70.0, 0.5), (set.Picks[0].X, set.Picks[0].Y, set.Picks[0].Score!.Value));
    }

    [Fact]
    public void Eman2JsonBoxesAreCentres()
    {
        using var dir = new TempDir();
        var set = Single(dir.WriteText("mic_info.json", """{"boxes": [[512, 256, "manual"], [100.5, 200, "auto", 0.9]], "other": 1}"""));
        Assert.Equal(CoordinateFormat.Eman2Json, set.Format);
        Assert.Equal([(512.0, 256.0), (100.5, 200.0)], set.Picks.Select(p => (p.X, p.Y)));
        Assert.Null(set.Picks[0].Score);
        Assert.Equal(0.9, set.Picks[1].Score);
    }

    [Fact]
    public void TopazPicksAreGroupedByImageAndScaledToMicrographPixels()
    {
        using var dir = new TempDir();
        string path = dir.WriteText("predicted.txt", "image_name\tx_coord\ty_coord\tscore\nmicA\t100\t50\t2.5\nmicB\t10\t20\t-1\nmicA\t30\t40\t0.25\n");
        var sets = CoordinateReader.Read(path, new CoordinateReadOptions { Scale = 4 });
        Assert.Equal(["micA", "micB"], sets.Select(s => s.MicrographKey));
        Assert.All(sets, s => Assert.Equal(CoordinateFormat.Topaz, s.Format));
        Assert.Equal([(400.0, 200.0, 2.5), (120.0, 160.0, 0.25)], sets[0].Picks.Select(p => (p.X, p.Y, p.Score!.Value)));
        Assert.Equal((40.0, 80.0), (sets[1].Picks[0].X, sets[1].Picks[0].Y));
    }

    [Fact]
    public void ScaleAppliesAfterTheCornerToCentreConversion()
    {
        using var dir = new TempDir();
        var set = Single(dir.WriteText("mic.box", "10 20 64 64\n"), new CoordinateReadOptions { Scale = 2 });
        Assert.Equal((84.0, 104.0), (set.Picks[0].X, set.Picks[0].Y));
    }

    [Fact]
    public void MinScoreDropsLowPicksAndCountsThem()
    {
        using var dir = new TempDir();
        string path = dir.WriteText("predicted.txt", "image_name\tx_coord\ty_coord\tscore\nm\t1\t1\t-2\nm\t2\t2\t0\nm\t3\t3\t1.5\n");
        var set = Single(path, new CoordinateReadOptions { MinScore = 0 });
        Assert.Equal([2.0, 3.0], set.Picks.Select(p => p.X));
        Assert.Equal(1, set.BelowMinScore);
    }

    [Fact]
    public void MinScoreOnAFileWithoutScoresIsAnError()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(dir.WriteText("mic.box", "1 2 3 4\n"), new CoordinateReadOptions { MinScore = 0.5 }));
        Assert.Contains("mic.box", e.Message);
        Assert.Contains("no score", e.Message);
    }

    [Fact]
    public void BadBoxLineNamesFileLineAndField()
    {
        using var dir = new TempDir();
        string path = dir.WriteText("mic.box", "1 2 3 4\n5 six 7 8\n");
        var e = Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(path));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(2, e.Where.Line);
        Assert.Equal("y (column 2)", e.Where.Field);
        Assert.Contains("'six'", e.Message);
    }

    [Fact]
    public void ShortBoxLineIsRefused()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(dir.WriteText("mic.box", "1 2 3\n")));
        Assert.Equal(1, e.Where.Line);
        Assert.Contains("3 columns", e.Message);
    }

    [Fact]
    public void BadStarCoordinateNamesLineAndColumn()
    {
        using var dir = new TempDir();
        string path = dir.WriteText("a_autopick.star", "data_\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n1 2\n3 x\n");
        var e = Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(path));
        Assert.Equal(6, e.Where.Line);
        Assert.Equal("rlnCoordinateY", e.Where.Field);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void TopazWithoutHeaderOrWithRaggedRowsIsRefused()
    {
        using var dir = new TempDir();
        var noHeader = Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(dir.WriteText("a.txt", "m\t1\t2\t3\n")));
        Assert.Equal("header", noHeader.Where.Field);
        var ragged = Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(dir.WriteText("b.txt", "image_name\tx_coord\ty_coord\tscore\nm\t1\t2\n")));
        Assert.Equal(2, ragged.Where.Line);
        var badX = Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(dir.WriteText("c.txt", "image_name\tx_coord\ty_coord\nm\tnan\t2\n")));
        Assert.Equal("x_coord", badX.Where.Field);
    }

    [Fact]
    public void BadJsonIsRefusedWithWhereItBroke()
    {
        using var dir = new TempDir();
        var syntax = Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(dir.WriteText("a.json", "{\"boxes\": [[1, 2],\n [3, }")));
        Assert.Equal(2, syntax.Where.Line);
        var shape = Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(dir.WriteText("b.json", """{"boxes": [[1, 2], ["x", 3]]}""")));
        Assert.Equal("boxes[1][0]", shape.Where.Field);
        Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(dir.WriteText("c.json", "[1, 2]")));
    }

    [Fact]
    public void CatalogRereadsPerMicrographFilesAndHoldsMultiMicrographSets()
    {
        using var dir = new TempDir();
        string box = dir.WriteText("a.box", "10 20 64 64\n");
        string topaz = dir.WriteText("t.txt", "image_name\tx_coord\ty_coord\tscore\nb\t1\t2\t3\nc\t4\t5\t6\n");
        var sources = CoordinateReader.Catalog([box, topaz], new CoordinateReadOptions { Scale = 2 });
        Assert.Equal(["a", "b", "c"], sources.Select(s => s.MicrographKey));
        Assert.Null(sources[0].Held);
        Assert.NotNull(sources[1].Held);
        Assert.Equal(1, sources[0].PickCount);
        File.WriteAllText(box, "10 20 64 64\n0 0 64 64\n"); // a later reading sees the file as it is then
        Assert.Equal([(84.0, 104.0), (64.0, 64.0)], sources[0].Load().Picks.Select(p => (p.X, p.Y)));
        Assert.Equal((8.0, 10.0), (sources[2].Load().Picks[0].X, sources[2].Load().Picks[0].Y));
    }

    [Fact]
    public void UnknownExtensionAndMissingFileAreRefused()
    {
        using var dir = new TempDir();
        Assert.Throws<CoordinateFormatException>(() => CoordinateReader.Read(dir.WriteText("a.xyz", "1 2\n")));
        Assert.Throws<DataFileNotFoundException>(() => CoordinateReader.Read(dir.File("none.box")));
    }
}
